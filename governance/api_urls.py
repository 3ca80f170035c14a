"""The project API router: every app's API under /api/v1/, plus schema and docs."""

urlpatterns: list = []
