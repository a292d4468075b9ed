"""The floors Evently's booking is measured against, each a Django project of its own.

Both make the same booking in the same SQL (`sql.book`) on the same database, served by the
same gunicorn configuration, and use nothing of Evently's settings, middleware or apps:

- the plain floor (`plain_settings`): a Django view, no middleware, no installed app;
- the framework floor (`framework_settings`): a DRF APIView with simplejwt bearer
  authentication from the token's claims alone and a two-field serializer.

What separates Evently from the framework floor is then Evently's own code; what separates the
framework floor from the plain one is what DRF and simplejwt cost.
"""
