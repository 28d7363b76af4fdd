"""200 parallel creations of the same name all succeed, numbered 1..200 without a gap.

They used to collide on the run-number unique constraint and retry a few times:
91 of 200 got 400 "Could not allocate a run number". The run numbers of a
user's name are now locked while one creation takes the next (a PostgreSQL
advisory lock; SQLite's write lock), on both database engines.
"""

from __future__ import annotations

import threading

import requests

PARALLEL = 200


def test_parallel_creates_take_consecutive_run_numbers(
    live_server, user, other_user, helloworld_spec
):
    barrier = threading.Barrier(PARALLEL)
    answers: list = [None] * PARALLEL

    def create(index: int) -> None:
        token = user.test_token if index % 10 else other_user.test_token
        with requests.Session() as session:
            barrier.wait()
            try:
                answers[index] = session.post(
                    live_server + "/api/workflows",
                    params={"workflow_name": "same", "access_token": token},
                    json=helloworld_spec,
                    timeout=120,
                )
            except requests.RequestException as error:
                answers[index] = error

    threads = [threading.Thread(target=create, args=(i,)) for i in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = [a if isinstance(a, Exception) else (a.status_code, a.text) for a in answers
                if isinstance(a, Exception) or a.status_code != 201]
    assert not failures, failures[:5]
    runs = {(i % 10 == 0, a.json()["workflow_name"]) for i, a in enumerate(answers)}
    assert len(runs) == PARALLEL
    for token, count in ((user.test_token, 180), (other_user.test_token, 20)):
        listed = requests.get(
            live_server + "/api/workflows",
            params={"type": "batch", "access_token": token, "search": '{"name": ["same"]}'},
            timeout=60,
        ).json()
        numbers = sorted(int(item["name"].split(".")[1]) for item in listed["items"])
        assert numbers == list(range(1, count + 1))
