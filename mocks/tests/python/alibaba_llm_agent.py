#!/usr/bin/env python3
"""Starts (or stops) an RTC agent with a third-party LLM through the official RTC SDK.

The agent's VoiceChatConfig.LLMConfig is built with the SDK's own model
(StartAgentRequestVoiceChatConfigLLMConfig): Vendor "thirdparty", Url, ApiKey, Model, Prompt,
HistoryDepth, MaxToken, Temperature, TopP and Params, as a developer would start it. The test then
makes the agent converse through the mock's admin API and checks what its LLM received.

Prints one JSON line ({"ok", "detail"}) and exits 1 on failure.

    python alibaba_llm_agent.py --endpoint 127.0.0.1:PORT --access-key-id ID --access-key-secret S \
        --task TASK --channel CH --llm-url URL --llm-key KEY start|stop
"""

import argparse
import json
import sys
import traceback

from alibabacloud_rtc20180111 import models as rtc_models
from alibabacloud_rtc20180111.client import Client as RtcClient
from alibabacloud_tea_openapi.models import Config


def start(rtc, args):
    llm = rtc_models.StartAgentRequestVoiceChatConfigLLMConfig(
        vendor="thirdparty",
        url=args.llm_url,
        api_key=args.llm_key,
        model="vendor-model-1",
        prompt="你是一个友好的语音助手。",
        history_depth=2,
        max_token=500,
        temperature=0.5,
        top_p=0.9,
        params={"verification_code": "code-123"},
    )
    request = rtc_models.StartAgentRequest(
        app_id="app1",
        channel_id=args.channel,
        task_id=args.task,
        template_id="tpl1",
        rtc_config=rtc_models.StartAgentRequestRtcConfig(user_id="agent1", target_user_ids=["u1"]),
        voice_chat_config=rtc_models.StartAgentRequestVoiceChatConfig(greeting="你好", llmconfig=llm),
    )
    return rtc.start_agent(request).body.to_map()


def stop(rtc, args):
    request = rtc_models.StopAgentRequest(app_id="app1", channel_id=args.channel, task_id=args.task)
    return rtc.stop_agent(request).body.to_map()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag in ("--endpoint", "--access-key-id", "--access-key-secret", "--task", "--channel"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--llm-url", default="")
    parser.add_argument("--llm-key", default="")
    parser.add_argument("command", choices=["start", "stop"])
    args = parser.parse_args()
    config = Config(
        access_key_id=args.access_key_id,
        access_key_secret=args.access_key_secret,
        endpoint=args.endpoint,
        protocol="http",
    )
    try:
        detail = (start if args.command == "start" else stop)(RtcClient(config), args)
        print(json.dumps({"ok": True, "detail": detail}, default=str), flush=True)
    except Exception as e:  # the test prints it
        print(json.dumps({"ok": False, "detail": f"{type(e).__name__}: {e}\n{traceback.format_exc()}"}))
        sys.exit(1)


if __name__ == "__main__":
    main()
