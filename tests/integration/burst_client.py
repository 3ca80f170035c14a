"""One OS process of the concurrency burst (tests/integration/test_concurrency.py).

    python -m tests.integration.burst_client PLAN_JSON GO_FILE

Threads, each with its own Django test client built with
``raise_request_exception=False`` (so a view's exception is a counted 500, not lost in
the thread), send their share of writes once GO_FILE exists; the process prints one JSON
line: [[kind, status], ...]. The database and settings come from the environment
(DATABASE_URL of the test database, governance.settings).
"""

import json
import os
import sys
import threading
import time


def _clients(plan: dict):
    from django.contrib.auth import get_user_model
    from django.test import Client

    users = get_user_model().objects

    def api(token: str) -> Client:
        return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {token}")

    def session(username: str) -> Client:
        client = Client(raise_request_exception=False)
        client.force_login(users.get(username=username))
        return client

    return api, session


def _jobs(plan: dict) -> list:
    """A list of per-thread job lists: (kind, client factory args, method, url, data)."""
    threads = []
    for i in range(plan.get("patch_threads", 0)):
        jobs = []
        for n in range(plan["patches_per_thread"]):
            pk = plan["use_cases"][(i + n) % len(plan["use_cases"])]
            body = {"purpose": f"Burst {plan['name']}-{i}-{n}: scores applications."}
            jobs.append(("patch", f"/api/v1/use-cases/{pk}/", body))
        threads.append(("api", jobs))
    for i in range(plan.get("summary_threads", 0)):
        jobs = []
        for n in range(plan["summaries_per_thread"]):
            size = plan["summary_offset"] + i * plan["summaries_per_thread"] + n
            url = f"/api/v1/scored-datasets/{plan['dataset']}/summaries/"
            jobs.append(("summary", url, {"min_group_size": size}))
        threads.append(("api", jobs))
    if plan.get("sign"):
        sign = plan["sign"]
        threads.append(("session", [("sign", sign["url"], sign["data"])]))
    # Any JSON POST, the same from several threads (e.g. asking for one document).
    for post in plan.get("json_posts", []):
        for _ in range(post["threads"]):
            threads.append(("api", [("json:" + post["kind"], post["url"], post["data"])]))
    return threads


def main() -> None:
    import django

    django.setup()
    plan, go = json.loads(sys.argv[1]), sys.argv[2]
    api, session = _clients(plan)
    results: list = []
    lock = threading.Lock()
    work = _jobs(plan)
    clients = [
        api(plan["token"]) if how == "api" else session(plan["sign"]["user"]) for how, _ in work
    ]

    def run(client, jobs) -> None:
        for kind, url, data in jobs:
            if kind == "patch":
                r = client.patch(url, json.dumps(data), content_type="application/json")
            elif kind == "summary" or kind.startswith("json:"):
                r = client.post(url, json.dumps(data), content_type="application/json")
            else:
                r = client.post(url, data)
            with lock:
                results.append([kind, r.status_code])

    threads = [
        threading.Thread(target=run, args=(c, jobs))
        for c, (_, jobs) in zip(clients, work, strict=True)
    ]
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.02)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
