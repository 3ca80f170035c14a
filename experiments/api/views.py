"""Experiments API (issue #7): drafts (create, read, update, delete), start (sign the
protocol: a browser session and the password; a token is refused with 403), the
deterministic assignment of an entity key, batches of outcomes, the result (409
before the pre-registered end), abandon, and signing the result.

No effect size or p-value is served before the analysis: the experiment's own
representation never carries the result, and ``results`` answers 409 until then.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.filters import ListFiltersOnlyMixin
from accounts.serializers import OnlyTheseFieldsMixin
from accounts.sso.signing import API_PASSWORD_HELP
from experiments import permissions
from experiments import selectors as sel
from experiments import services as svc
from experiments.filters import ExperimentFilterSet
from experiments.models import Experiment, ExperimentBatch
from inventory.models import ModelVersion, UseCase
from reviews.api.views import SignatureSerializer


class ExperimentSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    accrual = serializers.SerializerMethodField()
    result_available = serializers.SerializerMethodField()
    assignment_recipe = serializers.SerializerMethodField(
        help_text="After the lock, to those who run the experiment and only when the product "
        "assigns: the salt, the split and the recipe to compute arms locally."
    )

    class Meta:
        model = Experiment
        fields = [
            "id",
            "use_case",
            "name",
            "hypothesis",
            "champion",
            "challenger",
            "design",
            "primary_metric",
            "metric_kind",
            "population",
            "splitting",
            "entity_key_name",
            "assignment",
            "assignment_recipe",
            "protocol",
            "sample_size",
            "planned_units",
            "planned_days",
            "duration_days",
            "owner",
            "status",
            "protocol_sha256",
            "created_at",
            "updated_at",
            "started_at",
            "planned_end",
            "ended_at",
            "end_reason",
            "analysed_at",
            "abandoned_at",
            "abandon_reason",
            "result_available",
            "result_sha256",
            "evidence_sha256",
            "accrual",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_accrual(self, obj) -> dict:
        if not self.context.get("with_accrual"):
            return {}
        return sel.accrual(obj).to_dict()

    def get_result_available(self, obj) -> bool:
        return sel.result_available(obj)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_assignment_recipe(self, obj) -> dict | None:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if not sel.recipe_visible(obj, user):
            return None
        return svc.assignment_recipe(obj)


class ExperimentWriteSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    use_case = serializers.PrimaryKeyRelatedField(queryset=UseCase.objects.all())
    name = serializers.CharField(max_length=200)
    hypothesis = serializers.CharField(required=False, allow_blank=True, default="")
    champion = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    challenger = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    design = serializers.ChoiceField(choices=Experiment.Design.choices)
    metric_kind = serializers.ChoiceField(choices=Experiment.MetricKind.choices)
    primary_metric = serializers.CharField(max_length=200)
    population = serializers.CharField()
    splitting = serializers.ChoiceField(
        choices=Experiment.Splitting.choices, default=Experiment.Splitting.HASH
    )
    entity_key_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    assignment = serializers.ChoiceField(
        choices=Experiment.Assignment.choices, default=Experiment.Assignment.PRODUCT
    )
    duration_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=3650,
        help_text="The fixed duration in days (default: whole weeks covering the sample size).",
    )
    protocol = serializers.JSONField(
        help_text="alpha, power, minimum_effect, alternative, higher_is_better, "
        "baseline_proportion, standard_deviation, discordant_proportion, split "
        '({"champion": 50, "challenger": 50}, percent), daily_traffic, interim_looks, '
        "spending, srm_alpha, max_missing_share, max_duplicate_share, mcnemar_exact, "
        "guardrails ([{name, metric_kind, tolerance, higher_is_better}]), "
        "non_inferiority_margin (a one-sided A/B non-inferiority design)."
    )


class ExperimentUpdateSerializer(ExperimentWriteSerializer):
    use_case = None


class ExperimentSignSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    password = serializers.CharField(
        max_length=4096, style={"input_type": "password"}, help_text=API_PASSWORD_HELP
    )
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class ExperimentOverrideSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    password = serializers.CharField(
        max_length=4096, style={"input_type": "password"}, help_text=API_PASSWORD_HELP
    )
    justification = serializers.CharField(max_length=4000)


class ExperimentAbandonSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


KEY_MESSAGE = "Give the entity key (1 to 200 characters)."


class AssignmentInputSerializer(serializers.Serializer):
    """``?key=``: the entity key whose arm is asked for."""

    key = serializers.CharField(
        max_length=200,
        help_text="The entity key (1 to 200 characters).",
        error_messages={
            "required": KEY_MESSAGE,
            "blank": KEY_MESSAGE,
            "max_length": KEY_MESSAGE,
        },
    )


class ExperimentAssignmentSerializer(serializers.Serializer):
    experiment = serializers.IntegerField()
    key = serializers.CharField()
    arm = serializers.ChoiceField(choices=["champion", "challenger"])


class BulkAssignmentInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    keys = serializers.JSONField(help_text="A list of up to 10,000 entity keys.")


class BulkAssignmentSerializer(serializers.Serializer):
    experiment = serializers.IntegerField()
    assignments = serializers.JSONField(help_text="[{key, arm}], in the order given.")


class OutcomeFileSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8) or Parquet.")
    unit = serializers.CharField(max_length=200, required=False, allow_blank=True)
    arm = serializers.CharField(max_length=200, required=False, allow_blank=True)
    outcome = serializers.CharField(max_length=200, required=False, allow_blank=True)
    champion_label = serializers.CharField(max_length=200, required=False, allow_blank=True)
    challenger_label = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ExperimentOutcomesSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    rows = serializers.ListField(
        child=serializers.JSONField(),
        help_text="A/B: {entity_key, arm, outcome, guardrails: {name: value}}; shadow: "
        "{entity_key, champion_outcome, challenger_outcome, guardrails: {name: {champion, "
        "challenger}}}. An empty outcome marks a unit assigned but not observed.",
    )


class ExperimentBatchSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ExperimentBatch
        fields = [
            "id",
            "experiment",
            "source",
            "name",
            "sha256",
            "rows",
            "uploaded_by",
            "uploaded_at",
        ]
        read_only_fields = fields


class ExperimentResultSerializer(serializers.Serializer):
    experiment = serializers.IntegerField()
    status = serializers.CharField()
    result_sha256 = serializers.CharField()
    valid = serializers.BooleanField(
        help_text="The data-quality step passed (or a governance lead overrode it). When "
        "false the result carries the reasons but no test, effect, p-value or decision."
    )
    signable = serializers.BooleanField()
    override = SignatureSerializer(allow_null=True)
    result = serializers.JSONField()
    looks = serializers.JSONField()


class ExperimentSignedResultSerializer(serializers.Serializer):
    signature = SignatureSerializer()
    evidence_submitted = serializers.BooleanField()
    evidence_sha256 = serializers.CharField(allow_blank=True)
    evidence_error = serializers.CharField(allow_blank=True)


def _via_token(request) -> bool:
    auth = request.successful_authenticator
    return isinstance(auth, TokenAuthentication) or not isinstance(auth, SessionAuthentication)


def _conflict(experiment: Experiment, detail: str) -> Response:
    return Response(
        {"detail": detail, "status": experiment.status}, status=status.HTTP_409_CONFLICT
    )


class ExperimentViewSet(ListFiltersOnlyMixin, viewsets.ModelViewSet):
    serializer_class = ExperimentSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ExperimentFilterSet
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return sel.experiment_list(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "with_accrual": self.action != "list"}

    def _out(self, experiment, code=status.HTTP_200_OK):
        obj = self.get_queryset().get(pk=experiment.pk)
        return Response(self.get_serializer(obj).data, status=code)

    @extend_schema(request=ExperimentWriteSerializer, responses={201: ExperimentSerializer})
    def create(self, request):
        data = ExperimentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        experiment = svc.experiment_create(by=request.user, **data.validated_data)
        return self._out(experiment, status.HTTP_201_CREATED)

    @extend_schema(request=ExperimentUpdateSerializer, responses=ExperimentSerializer)
    def update(self, request, pk=None, partial=False):
        experiment = self.get_object()
        if not experiment.is_draft:
            return _conflict(experiment, "The protocol is signed and locked; it cannot change.")
        data = ExperimentUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        svc.experiment_update(experiment=experiment, by=request.user, **data.validated_data)
        return self._out(experiment)

    @extend_schema(request=ExperimentUpdateSerializer, responses=ExperimentSerializer)
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        experiment = self.get_object()
        if not experiment.is_draft:
            return _conflict(experiment, "Only a draft can be deleted; abandon it instead.")
        svc.experiment_delete(experiment=experiment, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=ExperimentSignSerializer,
        responses={201: SignatureSerializer},
        description="Sign the protocol with the password typed again, from a browser "
        "session: the experiment runs and its protocol is locked. A token is refused (403).",
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        experiment = self.get_object()
        if _via_token(request):
            svc.experiment_start(
                experiment=experiment, by=request.user, password="", via_token=True
            )
        data = ExperimentSignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not experiment.is_draft:
            return _conflict(experiment, "The experiment has already started.")
        signature = svc.experiment_start(
            experiment=experiment, by=request.user, **data.validated_data
        )
        return Response(SignatureSerializer(signature).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ExperimentAbandonSerializer, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def abandon(self, request, pk=None):
        experiment = self.get_object()
        data = ExperimentAbandonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if experiment.status not in ("draft", "running"):
            return _conflict(experiment, "Only a draft or a running experiment is abandoned.")
        svc.experiment_abandon(experiment=experiment, by=request.user, **data.validated_data)
        return self._out(experiment)

    @extend_schema(
        parameters=[AssignmentInputSerializer],
        responses={
            200: ExperimentAssignmentSerializer,
            409: OpenApiResponse(OpenApiTypes.OBJECT, description="The experiment is not running."),
        },
        description="The arm of an entity key: deterministic (a hash of the experiment's "
        "salt and the key against the planned split). 409 unless the experiment runs.",
    )
    @action(detail=True, methods=["get"])
    def assignment(self, request, pk=None):
        experiment = self.get_object()
        if experiment.status != Experiment.Status.RUNNING:
            return _conflict(experiment, "Assignments are given only while the experiment runs.")
        if experiment.assignment == Experiment.Assignment.EXTERNAL:
            return _conflict(experiment, "An outside randomiser assigns this experiment's units.")
        data = AssignmentInputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        key = data.validated_data["key"]
        arm = svc.experiment_assign(experiment=experiment, key=key)
        return Response({"experiment": experiment.pk, "key": key, "arm": arm})

    @extend_schema(
        request=BulkAssignmentInputSerializer,
        responses={200: BulkAssignmentSerializer, 409: OpenApiTypes.OBJECT},
        description="The arms of up to 10,000 entity keys in one call (the product "
        "assigns; 409 unless the experiment runs or when an outside randomiser assigns).",
    )
    @action(detail=True, methods=["post"])
    def assignments(self, request, pk=None):
        experiment = self.get_object()
        data = BulkAssignmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if experiment.status != Experiment.Status.RUNNING:
            return _conflict(experiment, "Assignments are given only while the experiment runs.")
        if not experiment.assigned_by_product:
            return _conflict(experiment, "The product does not assign this experiment's units.")
        out = svc.experiment_assign_many(experiment=experiment, keys=data.validated_data["keys"])
        return Response({"experiment": experiment.pk, "assignments": out})

    @extend_schema(
        request={"multipart/form-data": OutcomeFileSerializer},
        responses={201: ExperimentBatchSerializer},
        description="An outcome file as a feature-flag platform exports it (CSV or "
        "Parquet), its unit, arm and outcome columns and arm labels named; all or nothing.",
    )
    @action(detail=True, methods=["post"], url_path="outcomes-file")
    def outcomes_file(self, request, pk=None):
        experiment = self.get_object()
        data = OutcomeFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if experiment.status not in ("running", "ended"):
            return _conflict(experiment, "Outcomes are accepted while the experiment runs.")
        fields = dict(data.validated_data)
        upload = fields.pop("file")
        batch = svc.outcomes_upload_file(
            experiment=experiment,
            by=request.user,
            data=upload.read(),
            name=upload.name,
            mapping=fields,
        )
        return Response(ExperimentBatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ExperimentOutcomesSerializer, responses={201: ExperimentBatchSerializer})
    @action(detail=True, methods=["post"])
    def outcomes(self, request, pk=None):
        experiment = self.get_object()
        data = ExperimentOutcomesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if experiment.status not in ("running", "ended"):
            return _conflict(experiment, "Outcomes are accepted while the experiment runs.")
        batch = svc.outcomes_record(
            experiment=experiment, by=request.user, rows=data.validated_data["rows"]
        )
        return Response(ExperimentBatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: ExperimentResultSerializer, 409: OpenApiTypes.OBJECT},
        description="The analysed result. 409 before the pre-registered end: no effect "
        "size or p-value is served early (interim looks already taken are listed).",
    )
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        experiment = self.get_object()
        shown = sel.visible_result(experiment)
        if not shown["available"]:
            return Response(
                {
                    "detail": "The result is available after the pre-registered end and "
                    "the analysis; looking early is how results get cherry-picked.",
                    "status": experiment.status,
                    "accrual": sel.accrual(experiment).to_dict(),
                    "looks": shown["looks"],
                },
                status=status.HTTP_409_CONFLICT,
            )
        override = sel.result_override(experiment)
        return Response(
            {
                "experiment": experiment.pk,
                "status": experiment.status,
                "result_sha256": experiment.result_sha256,
                "valid": sel.result_valid(experiment) or override is not None,
                "signable": sel.result_signable(experiment),
                "override": SignatureSerializer(override).data if override else None,
                "result": shown["result"],
                "looks": shown["looks"],
            }
        )

    @extend_schema(
        request=ExperimentSignSerializer,
        responses={201: ExperimentSignedResultSerializer},
        description="The owner signs the analysed result (browser session and password; "
        "a token is refused with 403); it is then submitted as preproduction evidence when "
        "it says the challenger is better (or non-inferior). A result that is not valid "
        "(failed data quality) is refused with 409 unless a governance lead overrode it.",
    )
    @action(detail=True, methods=["post"], url_path="sign-result")
    def sign_result(self, request, pk=None):
        experiment = self.get_object()
        if _via_token(request):
            svc.experiment_result_sign(
                experiment=experiment, by=request.user, password="", via_token=True
            )
        data = ExperimentSignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        why = sel.result_not_signable_reason(experiment)
        if why:
            return _conflict(experiment, why)
        out = svc.experiment_result_sign(
            experiment=experiment, by=request.user, **data.validated_data
        )
        experiment.refresh_from_db()
        return Response(
            {
                "signature": SignatureSerializer(out.signature).data,
                "evidence_submitted": out.evidence is not None,
                "evidence_sha256": experiment.evidence_sha256,
                "evidence_error": out.evidence_error,
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=ExperimentOverrideSerializer,
        responses={201: SignatureSerializer, 409: OpenApiTypes.OBJECT},
        description="A governance lead other than the owner declares a result that failed "
        "its data-quality step valid, with a signed justification (browser session and "
        "password; a token is refused with 403). 409 when there is nothing to override.",
    )
    @action(detail=True, methods=["post"], url_path="override-result")
    def override_result(self, request, pk=None):
        experiment = self.get_object()
        if _via_token(request):
            svc.experiment_result_override(
                experiment=experiment,
                by=request.user,
                password="",
                justification="",
                via_token=True,
            )
        why, code = svc.override_refusal(experiment, request.user)
        if code == 403:
            raise PermissionDenied(why)
        data = ExperimentOverrideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if why:
            return _conflict(experiment, why)
        signature = svc.experiment_result_override(
            experiment=experiment, by=request.user, **data.validated_data
        )
        return Response(SignatureSerializer(signature).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={202: ExperimentSerializer, 409: OpenApiTypes.OBJECT},
        description="Ask for the analysis once the test has ended (its planned end date "
        "and sample size both reached): a running experiment then ends and its analysis "
        "is queued at once. 409 before the end, saying what is missing.",
    )
    @action(detail=True, methods=["post"])
    def analyse(self, request, pk=None):
        experiment = self.get_object()
        if not permissions.can_run_experiment(request.user, experiment.use_case):
            raise PermissionDenied("Only the use case's data scientists and governance leads.")
        why = svc.analysis_request_refusal(experiment)
        if why:
            return _conflict(experiment, why)
        svc.experiment_analysis_request(experiment=experiment, by=request.user)
        return self._out(experiment, status.HTTP_202_ACCEPTED)
