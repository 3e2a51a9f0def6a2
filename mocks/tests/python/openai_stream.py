#!/usr/bin/env python3
"""The official `openai` client reads the reference LLM endpoint with its streaming API.

Checks, one JSON line each ({"check", "ok", "detail"}):
- a streamed chat completion (client.chat.completions.create(stream=True), extendData sent with
  extra_body as the platform adds it) whose deltas assemble into the deterministic answer, with a
  finish_reason on the last chunk; the stream ends at data: [DONE], which the client consumes;
- a multi-turn request whose answer counts the turn;
- max_tokens cutting the answer short with finish_reason "length";
- a wrong key raising openai.AuthenticationError (401), an empty messages list openai.BadRequestError.

Exits 1 if any check failed.

    python openai_stream.py --base-url http://127.0.0.1:PORT/v1 --api-key KEY
"""

import argparse
import json
import sys
import traceback

import openai


class Checks:
    def __init__(self):
        self.failed = 0

    def run(self, name, fn):
        try:
            detail, ok = fn(), True
        except Exception as e:  # a failed check must not stop the others
            ok, detail = False, f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}"
        self.failed += 0 if ok else 1
        print(json.dumps({"check": name, "ok": ok, "detail": detail}, default=str, ensure_ascii=False), flush=True)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def streamed(client, messages, **extra):
    """The text, the chunk count and the last finish_reason of one streamed completion."""
    stream = client.chat.completions.create(
        model="vendor-model-1",
        messages=messages,
        stream=True,
        extra_body={"extendData": {"instanceId": "i1", "channelId": "c1", "sentenceId": 1, "userData": ""}},
        **extra,
    )
    text, chunks, finish = "", 0, None
    for chunk in stream:
        chunks += 1
        expect(chunk.object == "chat.completion.chunk", f"object {chunk.object!r}")
        choice = chunk.choices[0]
        text += choice.delta.content or ""
        finish = choice.finish_reason or finish
    return text, chunks, finish


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=20)
    checks = Checks()

    def one_turn():
        text, chunks, finish = streamed(client, [{"role": "user", "content": "hello there"}])
        expect(text == 'You said: "hello there" (turn 1).', f"text {text!r}")
        expect(chunks >= 4 and finish == "stop", f"{chunks} chunks, finish {finish!r}")
        return {"text": text, "chunks": chunks}

    def multi_turn():
        messages = [
            {"role": "system", "content": "你是导游。"},
            {"role": "user", "content": "你好"},
            {"role": "assistant", "content": "你好！"},
            {"role": "user", "content": "今天去哪儿"},
        ]
        text, _, finish = streamed(client, messages)
        expect(text == "你说：“今天去哪儿”（第2轮）。", f"text {text!r}")
        expect(finish == "stop", finish)
        return text

    def cut_short():
        text, _, finish = streamed(client, [{"role": "user", "content": "one two three four"}], max_tokens=2)
        expect(finish == "length" and text == "You said: ", f"{text!r} {finish!r}")
        return text

    def wrong_key():
        bad = openai.OpenAI(base_url=args.base_url, api_key="wrong", max_retries=0)
        try:
            streamed(bad, [{"role": "user", "content": "hi"}])
        except openai.AuthenticationError as e:
            expect(e.status_code == 401, e.status_code)
            return str(e)
        raise AssertionError("a wrong key was accepted")

    def empty_messages():
        try:
            streamed(client, [])
        except openai.BadRequestError as e:
            expect(e.status_code == 400 and "messages" in str(e), str(e))
            return str(e)
        raise AssertionError("an empty messages list was accepted")

    checks.run("stream one turn", one_turn)
    checks.run("stream a multi-turn conversation", multi_turn)
    checks.run("max_tokens cuts the answer", cut_short)
    checks.run("a wrong key is AuthenticationError", wrong_key)
    checks.run("empty messages is BadRequestError", empty_messages)
    sys.exit(1 if checks.failed else 0)


if __name__ == "__main__":
    main()
