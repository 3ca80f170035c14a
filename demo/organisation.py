"""The demo organisation: people (named by role), teams and their datasets."""

from demo.specs import DatasetSpec, Person

# --- People and teams ---------------------------------------------------------------

# The six demo log-ins, one per role (printed by `make run`), then the further people
# who own use cases: data scientists of each team and the business owners (approvers).
PEOPLE: tuple[Person, ...] = (
    Person("risk.officer", "Risk", "Officer", "risk-officer"),
    Person("governance.lead", "Governance", "Lead", "governance-lead", is_staff=True),
    Person(
        "data.scientist",
        "Data",
        "Scientist",
        "data-scientist",
        teams=("credit-risk", "marketing", "operations"),
    ),
    Person("approver", "Model", "Approver", "approver"),
    Person("auditor", "Internal", "Auditor", "auditor"),
    # Independent validation (issue 12): in no team, named for Validation in the RACI.
    Person("model.validator", "Model", "Validator", "validator"),
    Person("credit.modeller", "Credit", "Modeller", "data-scientist", teams=("credit-risk",)),
    Person("fraud.engineer", "Fraud", "Engineer", "data-scientist", teams=("fraud",)),
    Person("pharma.statistician", "Pharma", "Statistician", "data-scientist", ("pharma-rnd",)),
    Person("people.analyst", "People", "Analyst", "data-scientist", teams=("hr-talent",)),
    Person("pricing.actuary", "Pricing", "Actuary", "data-scientist", ("insurance-pricing",)),
    Person("service.analyst", "Service", "Analyst", "data-scientist", ("customer-service",)),
    Person("credit.head", "Credit", "Head", "approver"),
    Person("fraud.head", "Fraud", "Head", "approver"),
    Person("pharma.lead", "Pharma", "Lead", "approver"),
    Person("marketing.head", "Marketing", "Head", "approver"),
    Person("hr.head", "HR", "Head", "approver"),
    Person("ops.head", "Operations", "Head", "approver"),
    Person("pricing.head", "Pricing", "Head", "approver"),
    Person("service.head", "Service", "Head", "approver"),
)

# (slug, name)
TEAMS: tuple[tuple[str, str], ...] = (
    ("credit-risk", "Credit risk modelling"),
    ("fraud", "Fraud and financial crime"),
    ("pharma-rnd", "Pharma R&D data science"),
    ("marketing", "Marketing analytics"),
    ("hr-talent", "HR and talent analytics"),
    ("operations", "Operations analytics"),
    ("insurance-pricing", "Insurance pricing"),
    ("customer-service", "Customer service analytics"),
)

# --- Datasets ----------------------------------------------------------------------

P, N = True, False  # PII flags, for readable column tables

DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        "Retail loan applications 2019-2024",
        "credit-risk",
        "credit.modeller",
        "core_banking.loan_origination.applications (Oracle)",
        "Monthly extract of submitted applications joined with the decision and 12-month "
        "performance; customer numbers are tokenised at extraction; loaded into the credit "
        "risk data mart by the nightly ETL job `lo_extract`.",
        "Consumer loan applications with the applicant's declared data and the outcome.",
        (
            ("application_id", "string", N, "Origination system primary key."),
            ("customer_token", "string", P, "CRM customer number, tokenised at extraction."),
            ("date_of_birth", "date", P, "Application form, checked against the KYC record."),
            ("postcode_district", "string", P, "Application address truncated to district."),
            ("annual_income", "decimal", P, "Declared; verified above the policy threshold."),
            ("employment_status", "category", N, "Application form."),
            ("requested_amount", "decimal", N, "Application form."),
            ("bureau_score", "integer", N, "Credit bureau monthly snapshot at application."),
            ("defaulted_12m", "boolean", N, "Target: 90+ days past due within 12 months."),
        ),
    ),
    DatasetSpec(
        "Credit bureau monthly snapshot",
        "credit-risk",
        "credit.modeller",
        "sftp://bureau-feed/monthly (external credit bureau)",
        "Monthly file delivered by the bureau under the data-sharing agreement; matched "
        "to customers on the tokenised customer number; files retained for seven years.",
        "External credit history of applicants and existing customers.",
        (
            ("customer_token", "string", P, "Matched by the bureau on name, address, birth."),
            ("bureau_score", "integer", N, "Bureau generic score, as delivered."),
            ("active_accounts", "integer", N, "Count of open credit accounts."),
            ("missed_payments_24m", "integer", N, "Derived by the bureau from account data."),
            ("search_count_6m", "integer", N, "Hard credit searches in the last six months."),
        ),
    ),
    DatasetSpec(
        "Loan portfolio performance by segment",
        "credit-risk",
        "data.scientist",
        "risk_dwh.ifrs9.segment_performance",
        "Quarterly aggregation of account-level performance to portfolio segments by the "
        "finance data team; reconciled with the general ledger before use.",
        "Segment-level default history and exposures for IFRS 9 modelling; no individuals.",
        (
            ("segment_id", "string", N, "Product x risk grade x vintage, from the segment map."),
            ("product", "category", N, "Product catalogue."),
            ("vintage_quarter", "string", N, "Quarter of origination."),
            ("exposure_at_default", "decimal", N, "Sum of account EAD, reconciled to ledger."),
            ("default_rate", "decimal", N, "Share of accounts defaulting in the quarter."),
            ("macro_scenario", "category", N, "Economics team's scenario set (base/up/down)."),
        ),
    ),
    DatasetSpec(
        "Card authorisations stream",
        "fraud",
        "fraud.engineer",
        "kafka://payments.card-authorisations",
        "Real-time authorisation events from the card processor, kept 90 days in the "
        "online feature store; card numbers are tokenised by the processor (PCI DSS).",
        "Every card authorisation request with merchant, device and amount.",
        (
            ("transaction_id", "string", N, "Processor message id."),
            ("card_token", "string", P, "PCI token from the processor; the PAN is never kept."),
            ("merchant_category_code", "string", N, "ISO 18245 code from the acquirer."),
            ("amount_eur", "decimal", N, "Converted at the processor's daily rate."),
            ("merchant_country", "string", N, "Acquirer data."),
            ("device_fingerprint", "string", P, "Mobile SDK hash of device attributes."),
            ("ip_address", "string", P, "E-commerce channel only."),
            ("event_time", "timestamp", N, "Processor clock, UTC."),
        ),
    ),
    DatasetSpec(
        "Confirmed fraud cases",
        "fraud",
        "fraud.engineer",
        "case_mgmt.fraud_cases",
        "Cases closed by fraud analysts as confirmed fraud, with chargeback outcomes; "
        "labels lag authorisations by up to 60 days.",
        "Ground truth for card fraud models.",
        (
            ("case_id", "string", N, "Case management key."),
            ("transaction_id", "string", N, "Joins the card authorisations stream."),
            ("fraud_type", "category", N, "Analyst's classification (CNP, lost/stolen, ATO)."),
            ("confirmed_at", "timestamp", N, "Case closure time."),
            ("chargeback_amount", "decimal", N, "From the scheme's chargeback file."),
        ),
    ),
    DatasetSpec(
        "AML alert history",
        "fraud",
        "fraud.engineer",
        "aml_platform.alerts",
        "Alerts raised by the transaction-monitoring scenarios since 2021, with the "
        "investigator's disposition; extracted weekly.",
        "Transaction-monitoring alerts and how investigators closed them.",
        (
            ("alert_id", "string", N, "AML platform key."),
            ("customer_token", "string", P, "Tokenised customer number."),
            ("scenario_code", "category", N, "Monitoring scenario that raised the alert."),
            ("scenario_score", "decimal", N, "Rule score from the AML platform."),
            ("disposition", "category", N, "Target: investigator's outcome."),
            ("sar_filed", "boolean", N, "Suspicious activity report filed (restricted)."),
        ),
    ),
    DatasetSpec(
        "PHX-204 trial baseline (pseudonymised)",
        "pharma-rnd",
        "pharma.statistician",
        "EDC clinical data management system, SDTM export (DM, VS, LB domains)",
        "Locked SDTM datasets of trial PHX-204; subject ids pseudonymised by the CRO, "
        "the key is held by the CRO only; the EDC keeps the audit trail (ALCOA).",
        "Baseline characteristics, biomarkers and response of the phase II trial subjects.",
        (
            ("subject_pseudo_id", "string", P, "CRO pseudonym of USUBJID."),
            ("age", "integer", P, "SDTM DM.AGE at screening."),
            ("sex", "category", P, "SDTM DM.SEX."),
            ("biomarker_x_ng_ml", "decimal", N, "SDTM LB, central laboratory."),
            ("egfr", "decimal", N, "SDTM LB, derived with CKD-EPI by the central laboratory."),
            ("prior_therapy_lines", "integer", N, "SDTM CM, derived by the study programmer."),
            ("responder_wk12", "boolean", N, "Target: RECIST response at week 12 (ADaM)."),
        ),
    ),
    DatasetSpec(
        "Tablet batch manufacturing records",
        "pharma-rnd",
        "pharma.statistician",
        "LIMS and MES historian, plant A and plant B",
        "Validated interface from the MES historian and LIMS into the GxP data lake; "
        "each record keeps its origin system, operator and timestamp (ALCOA).",
        "In-process measurements and release test results per tablet batch.",
        (
            ("batch_id", "string", N, "MES batch number."),
            ("site", "category", N, "Manufacturing plant."),
            ("api_lot", "string", N, "Active ingredient lot from the ERP."),
            ("granulation_moisture_pct", "decimal", N, "In-process control, MES historian."),
            ("compression_force_kn", "decimal", N, "Tablet press sensor, batch mean."),
            ("dissolution_30min_pct", "decimal", N, "Target: LIMS release test result."),
        ),
    ),
    DatasetSpec(
        "Compound assay results",
        "pharma-rnd",
        "pharma.statistician",
        "Electronic lab notebook assay tables",
        "Solubility assays recorded by the screening laboratory in the ELN.",
        "Measured aqueous solubility of screened compounds.",
        (
            ("compound_id", "string", N, "Compound registry id."),
            ("smiles", "string", N, "Compound registry structure."),
            ("clogp", "decimal", N, "Computed by the cheminformatics toolkit."),
            ("solubility_um", "decimal", N, "Target: kinetic solubility assay."),
        ),
    ),
    DatasetSpec(
        "Customer 360 marketing profile",
        "marketing",
        "data.scientist",
        "Customer data platform (CDP), daily profile export",
        "Daily export of the CDP profile for customers with marketing consent; e-mail "
        "addresses are hashed, records of customers who object are removed within 24 hours.",
        "Product holdings, tenure and engagement per consenting customer.",
        (
            ("customer_token", "string", P, "CRM customer number, tokenised."),
            ("email_sha256", "string", P, "Hashed e-mail, for matching to campaign data."),
            ("age_band", "category", P, "Derived from date of birth in CRM."),
            ("region", "category", N, "From the postal address."),
            ("tenure_months", "integer", N, "Since the first product was opened."),
            ("products_held", "integer", N, "Core banking product count."),
            ("marketing_consent", "boolean", N, "Preference centre; non-consenting excluded."),
            ("churned_90d", "boolean", N, "Target: all accounts closed within 90 days."),
        ),
    ),
    DatasetSpec(
        "Campaign response history",
        "marketing",
        "data.scientist",
        "marketing_dwh.campaign_responses",
        "Offers sent or shown and the customer's response, from the campaign tool and "
        "web analytics, joined on the hashed e-mail.",
        "Per-customer offer exposures and responses.",
        (
            ("campaign_id", "string", N, "Campaign tool key."),
            ("customer_token", "string", P, "Tokenised customer number."),
            ("offer_code", "string", N, "Product catalogue offer."),
            ("channel", "category", N, "E-mail, app, web or branch."),
            ("responded", "boolean", N, "Target: clicked and applied within 14 days."),
        ),
    ),
    DatasetSpec(
        "Campaign results by segment",
        "marketing",
        "data.scientist",
        "marketing_dwh.campaign_results_agg",
        "Aggregated from the campaign response history to segments of at least 50 "
        "customers; no individual rows.",
        "Treatment and control response rates per campaign and segment.",
        (
            ("campaign_id", "string", N, "Campaign tool key."),
            ("segment", "category", N, "Marketing segment model."),
            ("group", "category", N, "Treatment or holdout control."),
            ("customers", "integer", N, "Count, at least 50."),
            ("response_rate", "decimal", N, "Responders / customers."),
        ),
    ),
    DatasetSpec(
        "Graduate programme applications",
        "hr-talent",
        "people.analyst",
        "Applicant tracking system (ATS) export",
        "Applications to the 2021-2024 graduate programmes with the recruiters' "
        "shortlisting decisions; names, photos and contact details are removed from CV text "
        "before it leaves the ATS.",
        "CV text, qualifications and historic shortlisting decisions.",
        (
            ("applicant_id", "string", P, "ATS candidate id."),
            ("cv_text_redacted", "text", P, "Parsed CV; names, photos and addresses removed."),
            ("degree_subject", "category", N, "Parsed from the CV, normalised to a taxonomy."),
            ("graduation_year", "integer", N, "Application form."),
            ("skills", "list", N, "Extracted from the CV with the skills taxonomy."),
            ("assessment_score", "decimal", N, "Online assessment vendor."),
            ("gender", "category", P, "Self-declared; for bias testing only, never a feature."),
            ("shortlisted", "boolean", N, "Target: the recruiter's historic decision."),
        ),
    ),
    DatasetSpec(
        "HRIS employee snapshot",
        "hr-talent",
        "people.analyst",
        "HR information system, quarterly snapshot",
        "Quarterly snapshot of active employees from the HRIS with engagement survey "
        "results joined by the survey vendor on the employee id.",
        "Employment attributes and whether the employee left in the next 12 months.",
        (
            ("employee_id", "string", P, "HRIS key."),
            ("department", "category", N, "HRIS organisation tree."),
            ("grade", "category", N, "HRIS."),
            ("tenure_years", "decimal", N, "Since hire date."),
            ("manager_id", "string", P, "HRIS reporting line."),
            ("engagement_score", "decimal", P, "Survey vendor, team-level if fewer than 5."),
            ("left_within_12m", "boolean", N, "Target: voluntary leaver within 12 months."),
        ),
    ),
    DatasetSpec(
        "Store sales daily",
        "operations",
        "data.scientist",
        "retail_dwh.sales_daily",
        "Point-of-sale transactions aggregated per store, SKU and day by the nightly "
        "batch; weather index joined from the weather data vendor.",
        "Unit sales per store and SKU per day with price and promotions.",
        (
            ("store_id", "string", N, "Store master data."),
            ("sku", "string", N, "Product master data."),
            ("sales_date", "date", N, "Business date."),
            ("units_sold", "integer", N, "Sum of POS lines."),
            ("unit_price", "decimal", N, "Price book."),
            ("promo_flag", "boolean", N, "Promotions calendar."),
            ("weather_index", "decimal", N, "Weather vendor, per store region."),
        ),
    ),
    DatasetSpec(
        "Delivery fleet telematics",
        "operations",
        "data.scientist",
        "telematics platform, hourly vehicle aggregates",
        "Hourly aggregates of vehicle sensors from the telematics vendor's API; not "
        "linked to drivers.",
        "Vehicle sensor aggregates and workshop failure records.",
        (
            ("vehicle_id", "string", N, "Fleet register."),
            ("odometer_km", "integer", N, "Telematics unit."),
            ("engine_temp_c", "decimal", N, "Telematics unit, hourly mean."),
            ("vibration_rms", "decimal", N, "Telematics unit, hourly RMS."),
            ("fault_code", "string", N, "OBD-II code, if any."),
            ("failure_within_30d", "boolean", N, "Target: workshop system repair records."),
        ),
    ),
    DatasetSpec(
        "Warehouse shift logs",
        "operations",
        "data.scientist",
        "warehouse management system, shift reports",
        "Shift-level totals exported from the WMS; no individual worker data.",
        "Picks, hours and headcount per warehouse shift.",
        (
            ("shift_id", "string", N, "WMS shift key."),
            ("site", "category", N, "Warehouse."),
            ("picks", "integer", N, "WMS pick confirmations."),
            ("headcount", "integer", N, "Rostering system, shift total."),
        ),
    ),
    DatasetSpec(
        "Motor policies and quotes",
        "insurance-pricing",
        "pricing.actuary",
        "policy administration system and quote engine logs",
        "Quotes from the web and comparison sites with the policy outcome, joined to "
        "claims experience; extracted monthly into the pricing sandbox.",
        "Motor quotes with rating factors, premium and conversion.",
        (
            ("quote_id", "string", N, "Quote engine key."),
            ("policyholder_token", "string", P, "Tokenised customer number."),
            ("driver_age", "integer", P, "Quote form."),
            ("postcode_sector", "string", P, "Quote form, truncated to sector."),
            ("vehicle_group", "category", N, "Vehicle group rating from the industry body."),
            ("annual_mileage", "integer", N, "Quote form, declared."),
            ("claims_5y", "integer", N, "Claims database and industry claims register."),
            ("premium_quoted", "decimal", N, "Quote engine output."),
        ),
    ),
    DatasetSpec(
        "Claims ledger",
        "insurance-pricing",
        "pricing.actuary",
        "claims system, monthly ledger extract",
        "Monthly ledger of claim transactions reconciled with finance; claimant "
        "details stay in the claims system and are not extracted.",
        "Claim payments and reserves per claim and peril.",
        (
            ("claim_id", "string", N, "Claims system key."),
            ("policy_id", "string", N, "Policy administration key."),
            ("peril", "category", N, "Claims handler's classification."),
            ("reported_date", "date", N, "First notification of loss."),
            ("incurred_amount", "decimal", N, "Paid plus case reserve, ledger."),
        ),
    ),
    DatasetSpec(
        "Support tickets",
        "customer-service",
        "service.analyst",
        "helpdesk platform export",
        "E-mail and chat tickets with the queue that finally resolved them; free text "
        "is masked for names, account numbers and addresses by the NER masking job.",
        "Incoming customer tickets with text and resolution queue.",
        (
            ("ticket_id", "string", N, "Helpdesk key."),
            ("customer_token", "string", P, "Tokenised customer number, when signed in."),
            ("subject", "text", P, "Customer-written; masked by the NER job."),
            ("body_masked", "text", P, "Customer-written; masked by the NER job."),
            ("channel", "category", N, "E-mail or chat."),
            ("resolving_queue", "category", N, "Target: queue that resolved the ticket."),
        ),
    ),
    DatasetSpec(
        "Call-centre interval volumes",
        "customer-service",
        "service.analyst",
        "telephony platform, 15-minute interval reports",
        "Interval statistics exported from the telephony platform; no call content.",
        "Calls offered and handling time per queue and 15-minute interval.",
        (
            ("interval_start", "timestamp", N, "Telephony platform, local time."),
            ("queue", "category", N, "IVR queue."),
            ("calls_offered", "integer", N, "Telephony platform."),
            ("avg_handle_time_s", "decimal", N, "Telephony platform."),
        ),
    ),
)
