"""Reviews: ratings, photos, moderation, replies and NPS surveys."""
