"""Locust's side of the load-generator row in scripts/bench: GET / on the bare server, again
and again, with no wait between requests (what `agentproof load --scenario http-get` does).

FastHttpUser (geventhttpclient) is Locust's fastest client; bench/run.py runs this file in one
process, headless, with as many users as the other generators have connections, for a fixed
time and only against the 127.0.0.1 server it was given as --host. A non-2xx answer is a
failure, which bench/run.py refuses as a figure.
"""

from locust import FastHttpUser, constant, task


class BareGet(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self):
        self.client.get("/")
