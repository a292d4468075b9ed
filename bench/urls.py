from django.urls import path

from bench.floor import floor_book
from evently.urls import urlpatterns as product_urlpatterns

urlpatterns = [path("floor/book", floor_book), *product_urlpatterns]
