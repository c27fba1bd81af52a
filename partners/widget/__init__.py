"""The embeddable widget: the script a partner pastes on its pages, the endpoints it calls
(panel, redemption, reviews block), its publishable keys, customer tokens and CORS."""
