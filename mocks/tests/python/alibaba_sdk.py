#!/usr/bin/env python3
"""Interop check: Alibaba Cloud's official Python SDKs against the agentproof Alibaba mock.

V3 (ACS3-HMAC-SHA256): alibabacloud_rtc20180111 and alibabacloud_ice20201109, the success path
of all ten actions. V1 (HMAC-SHA1): aliyun-python-sdk-core's CommonRequest, the same ten. Then
each SDK's view of three errors: a wrong secret (SignatureDoesNotMatch, 400), an unknown key
(InvalidAccessKeyId.NotFound, 404) and a missing parameter (MissingInstanceId, 400).

Prints one JSON line per check ({"check", "ok", "detail"}) and exits 1 if any check failed.

    python alibaba_sdk.py --endpoint 127.0.0.1:PORT --access-key-id ID --access-key-secret SECRET
"""

import argparse
import json
import sys
import traceback
import uuid

from alibabacloud_ice20201109 import models as ice_models
from alibabacloud_ice20201109.client import Client as IceClient
from alibabacloud_rtc20180111 import models as rtc_models
from alibabacloud_rtc20180111.client import Client as RtcClient
from alibabacloud_tea_openapi.models import Config
from aliyunsdkcore.acs_exception.exceptions import ClientException as CoreClientError
from aliyunsdkcore.acs_exception.exceptions import ServerException as CoreServerError
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
from Tea.exceptions import TeaException

RTC_VERSION = "2018-01-11"
ICE_VERSION = "2020-11-09"


class Checks:
    """Runs named checks, prints one JSON line each, remembers failures."""

    def __init__(self):
        self.failed = 0

    def run(self, name, fn):
        try:
            detail = fn()
            ok = True
        except Exception as e:  # a failed check must not stop the others
            ok, detail = False, f"{type(e).__name__}: {e}"
            if not isinstance(e, AssertionError):
                detail += "\n" + traceback.format_exc(limit=3)
        self.failed += 0 if ok else 1
        print(json.dumps({"check": name, "ok": ok, "detail": detail}, default=str), flush=True)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def tea_config(args, key_id=None, secret=None):
    return Config(
        access_key_id=key_id or args.access_key_id,
        access_key_secret=secret or args.access_key_secret,
        endpoint=args.endpoint,
        protocol="http",
    )


def v3_rtc(checks, rtc):
    ids = dict(app_id="app1", channel_id=f"ch_{uuid.uuid4().hex[:8]}", task_id="task1")
    voice = rtc_models.StartAgentRequestVoiceChatConfig(
        chat_mode=1,
        interrupt_mode=1,
        greeting="hi",
        asrconfig=None,
    )
    start = rtc_models.StartAgentRequest(
        template_id="tpl1",
        rtc_config=rtc_models.StartAgentRequestRtcConfig(
            user_id="agent1", target_user_ids=["u1"], user_inactivity_timeout=30
        ),
        voice_chat_config=voice,
        **ids,
    )

    def start_agent():
        body = rtc.start_agent(start).body
        expect(body.request_id, "StartAgent: no RequestId")
        return body.to_map()

    def get_agent(status):
        def check():
            body = rtc.get_agent(rtc_models.GetAgentRequest(**ids)).body
            expect(body.status == status, f"GetAgent Status {body.status!r}, want {status!r}")
            expect(body.message == "Success" and body.start_time.isdigit(), body.to_map())
            return body.to_map()
        return check

    def update_agent():
        config = rtc_models.UpdateAgentRequestVoiceChatConfig(interrupt_mode=2, chat_mode=2)
        body = rtc.update_agent(rtc_models.UpdateAgentRequest(voice_chat_config=config, **ids)).body
        expect(body.request_id, "UpdateAgent: no RequestId")
        return body.to_map()

    def stop_agent():
        body = rtc.stop_agent(rtc_models.StopAgentRequest(**ids)).body
        expect(body.request_id, "StopAgent: no RequestId")
        return body.to_map()

    checks.run("v3 rtc StartAgent", start_agent)
    checks.run("v3 rtc GetAgent running", get_agent("1"))
    checks.run("v3 rtc UpdateAgent", update_agent)
    checks.run("v3 rtc StopAgent", stop_agent)
    checks.run("v3 rtc GetAgent stopped", get_agent("2"))


def v3_ice(checks, ice):
    state = {}

    def start():
        runtime = ice_models.AIAgentRuntimeConfig(agent_user_id="agent_1", channel_id="ch1", auth_token="tok")
        request = ice_models.StartAIAgentInstanceRequest(
            aiagent_id="agent-id-1", runtime_config=runtime, user_data='{"VoiceId":"xiaoxia"}'
        )
        body = ice.start_aiagent_instance(request).body
        expect(len(body.instance_id or "") == 32, f"InstanceId {body.instance_id!r}")
        state["id"] = body.instance_id
        return body.to_map()

    def describe(status):
        def check():
            body = ice.describe_aiagent_instance(
                ice_models.DescribeAIAgentInstanceRequest(instance_id=state["id"])
            ).body
            instance = body.instance
            expect(instance.status == status, f"Status {instance.status!r}, want {status!r}")
            expect(instance.runtime_config.channel_id == "ch1", "RuntimeConfig not parsed as a model")
            expect(instance.gmt_create and instance.gmt_create.endswith("+00:00"), instance.gmt_create)
            return body.to_map()
        return check

    def update():
        template = ice_models.AIAgentTemplateConfig(
            voice_chat=ice_models.AIAgentTemplateConfigVoiceChat(greeting="hello")
        )
        request = ice_models.UpdateAIAgentInstanceRequest(
            instance_id=state["id"], template_config=template, user_data='{"VoiceId":"zhixiaobai"}'
        )
        body = ice.update_aiagent_instance(request).body
        expect(body.request_id, "no RequestId")
        return body.to_map()

    def stop():
        body = ice.stop_aiagent_instance(ice_models.StopAIAgentInstanceRequest(instance_id=state["id"])).body
        expect(body.request_id, "no RequestId")
        return body.to_map()

    def generate_call():
        body = ice.generate_aiagent_call(
            ice_models.GenerateAIAgentCallRequest(aiagent_id="agent-id-1", expire=600)
        ).body
        for field in ("aiagent_user_id", "channel_id", "instance_id", "request_id", "token", "user_id"):
            expect(getattr(body, field), f"GenerateAIAgentCall: empty {field}")
        return body.to_map()

    def chat_token():
        body = ice.generate_message_chat_token(
            ice_models.GenerateMessageChatTokenRequest(aiagent_id="agent-id-1", user_id="user_1", role="admin")
        ).body
        expect(body.token.startswith("acet") and body.nonce.startswith("AK-"), body.to_map())
        expect(isinstance(body.time_stamp, int) and body.user_id == "user_1", body.to_map())
        return body.to_map()

    checks.run("v3 ice StartAIAgentInstance", start)
    checks.run("v3 ice DescribeAIAgentInstance executing", describe("Executing"))
    checks.run("v3 ice UpdateAIAgentInstance", update)
    checks.run("v3 ice StopAIAgentInstance", stop)
    checks.run("v3 ice DescribeAIAgentInstance finished", describe("Finished"))
    checks.run("v3 ice GenerateAIAgentCall", generate_call)
    checks.run("v3 ice GenerateMessageChatToken", chat_token)


def expect_tea_error(call, code, status):
    try:
        call()
    except TeaException as e:
        status_code = getattr(e, "status_code", None) or (e.data or {}).get("statusCode")
        expect(e.code == code, f"code {e.code!r}, want {code!r}")
        expect(status_code == status, f"status {status_code!r}, want {status}")
        expect((e.data or {}).get("Code") == code, f"data {e.data!r}")
        return {"code": e.code, "status": status_code, "message": e.message}
    raise AssertionError(f"no error, want {code}")


def v3_errors(checks, args):
    ice_wrong = IceClient(tea_config(args, secret="not-the-secret"))
    ice_unknown = IceClient(tea_config(args, key_id="LTAI5tNobodyHasThisKey"))
    ice = IceClient(tea_config(args))
    describe = ice_models.DescribeAIAgentInstanceRequest
    checks.run("v3 wrong secret", lambda: expect_tea_error(
        lambda: ice_wrong.describe_aiagent_instance(describe(instance_id="x")), "SignatureDoesNotMatch", 400))
    checks.run("v3 unknown key", lambda: expect_tea_error(
        lambda: ice_unknown.describe_aiagent_instance(describe(instance_id="x")), "InvalidAccessKeyId.NotFound", 404))
    checks.run("v3 missing parameter", lambda: expect_tea_error(
        lambda: ice.describe_aiagent_instance(describe()), "MissingInstanceId", 400))


def common_request(args, action, version, params):
    request = CommonRequest()
    request.set_domain(args.endpoint)
    request.set_protocol_type("http")
    request.set_method("POST")
    request.set_version(version)
    request.set_action_name(action)
    for key, value in params.items():
        request.add_query_param(key, value)
    return request


def v1_success(checks, args):
    client = AcsClient(args.access_key_id, args.access_key_secret, "cn-shanghai")

    def call(action, version, params):
        raw = client.do_action_with_exception(common_request(args, action, version, params))
        body = json.loads(raw)
        expect(body.get("RequestId"), f"{action}: no RequestId in {body}")
        return body

    rtc = dict(AppId="app1", ChannelId=f"ch_{uuid.uuid4().hex[:8]}", TaskId="task1")
    rtc_config = json.dumps({"UserId": "agent1", "TargetUserIds": ["u1"]})
    checks.run("v1 rtc StartAgent", lambda: call("StartAgent", RTC_VERSION, dict(rtc, TemplateId="tpl", RtcConfig=rtc_config)))
    checks.run("v1 rtc GetAgent", lambda: call("GetAgent", RTC_VERSION, rtc))
    checks.run("v1 rtc UpdateAgent", lambda: call("UpdateAgent", RTC_VERSION, dict(rtc, VoiceChatConfig='{"ChatMode":2}')))
    checks.run("v1 rtc StopAgent", lambda: call("StopAgent", RTC_VERSION, rtc))

    state = {}

    def start():
        runtime = json.dumps({"VoiceChat": json.dumps({"AgentUserId": "a1", "ChannelId": "c1", "AuthToken": "t"})})
        body = call("StartAIAgentInstance", ICE_VERSION, dict(AIAgentId="agent-id-1", RuntimeConfig=runtime))
        state["id"] = body["InstanceId"]
        return body

    checks.run("v1 ice StartAIAgentInstance", start)
    instance = lambda: dict(InstanceId=state.get("id", ""))
    checks.run("v1 ice DescribeAIAgentInstance", lambda: call("DescribeAIAgentInstance", ICE_VERSION, instance()))
    checks.run("v1 ice UpdateAIAgentInstance", lambda: call(
        "UpdateAIAgentInstance", ICE_VERSION, dict(instance(), TemplateConfig='{"VoiceChat":{"Greeting":"yo"}}')))
    checks.run("v1 ice StopAIAgentInstance", lambda: call("StopAIAgentInstance", ICE_VERSION, instance()))
    checks.run("v1 ice GenerateAIAgentCall", lambda: call("GenerateAIAgentCall", ICE_VERSION, dict(AIAgentId="agent-id-1")))
    checks.run("v1 ice GenerateMessageChatToken", lambda: call(
        "GenerateMessageChatToken", ICE_VERSION, dict(AIAgentId="agent-id-1", UserId="user_1")))


def expect_core_error(args, key_id, secret, params, code, status):
    client = AcsClient(key_id, secret, "cn-shanghai")
    request = common_request(args, "DescribeAIAgentInstance", ICE_VERSION, params)
    try:
        client.do_action_with_exception(request)
    except (CoreServerError, CoreClientError) as e:
        got_status = e.get_http_status() if isinstance(e, CoreServerError) else None
        expect(e.get_error_code() == code, f"code {e.get_error_code()!r}, want {code!r}")
        expect(got_status == status, f"status {got_status!r}, want {status}")
        return {"code": e.get_error_code(), "status": got_status, "message": e.get_error_msg()}
    raise AssertionError(f"no error, want {code}")


def v1_errors(checks, args):
    key, secret = args.access_key_id, args.access_key_secret
    checks.run("v1 wrong secret", lambda: expect_core_error(
        args, key, "not-the-secret", {"InstanceId": "x"}, "SignatureDoesNotMatch", 400))
    checks.run("v1 unknown key", lambda: expect_core_error(
        args, "LTAI5tNobodyHasThisKey", secret, {"InstanceId": "x"}, "InvalidAccessKeyId.NotFound", 404))
    checks.run("v1 missing parameter", lambda: expect_core_error(
        args, key, secret, {}, "MissingInstanceId", 400))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="host:port of the mock, e.g. 127.0.0.1:8080")
    parser.add_argument("--access-key-id", required=True)
    parser.add_argument("--access-key-secret", required=True)
    args = parser.parse_args()

    checks = Checks()
    v3_rtc(checks, RtcClient(tea_config(args)))
    v3_ice(checks, IceClient(tea_config(args)))
    v3_errors(checks, args)
    v1_success(checks, args)
    v1_errors(checks, args)
    sys.exit(1 if checks.failed else 0)


if __name__ == "__main__":
    main()
