"""Analytics: built with its issue; the app's place in the layout is reserved."""
