from rest_framework.routers import SimpleRouter

from documents.api import views

app_name = "documents-api"

router = SimpleRouter()
router.register("evidence-packs", views.EvidencePackViewSet, basename="evidence-pack")
router.register("documents", views.GeneratedDocumentViewSet, basename="document")
urlpatterns = router.urls
