def test_smoke(api, stored_definition):
    for m, p, b in [("GET", "/api/definitions/", None), ("GET", "/api/definitions/pick-host", None),
                    ("POST", "/api/definitions/pick-host/validate", None),
                    ("POST", "/api/definitions/pick-host/validate", {"config": {"nodes": []}}),
                    ("POST", "/api/definitions/pick-host/dry-run", None),
                    ("POST", "/api/definitions/pick-host/execute", {"payload": {"host": "web"}}),
                    ("POST", "/api/definitions/pick-host/execute?async=1", {"payload": {"host": "web"}}),
                    ("GET", "/api/runs/", None), ("GET", "/api/runs/1", None), ("GET", "/api/runs/abc", None),
                    ("POST", "/api/runs/1/resume", None), ("GET", "/api/nothing", None), ("GET", "/api/runs", None),
                    ("DELETE", "/api/runs/1", None), ("POST", "/api/definitions/", {"x": 1}),
                    ("POST", "/api/definitions/", None), ]:
        r = api.call(m, p, b)
        print(m, p, r.status_code, r.content[:400])
    r = api.call("POST", "/api/definitions/", raw="{bad")
    print(r.status_code, r.content)
    assert 0
