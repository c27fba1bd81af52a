"""Customers: users, customer profiles, contact persons and the friends-and-family list."""
