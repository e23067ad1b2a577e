"""Staff and admins: accounts, the review list of unanswered questions, the handoff inbox,
ratings, the model registry. Plain Python over SQLAlchemy; the routes live in ``bot/routes``."""
