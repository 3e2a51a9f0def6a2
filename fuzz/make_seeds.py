#!/usr/bin/env python3
"""Writes the committed seed corpora, fuzz/corpus/<target>/seed-*, from the examples below.

They come from PROTOCOLS.md's test vectors and the requests the check suites send, dated at the
fuzz crate's NOW (2025-07-18T06:39:08Z, PROTOCOLS.md §1.2's vector). The V1 and V3 seeds set the
target's "sign" flag: the target signs them with the demo secret, so they reach the actions.
Run from anywhere: python3 fuzz/make_seeds.py
"""
import base64, hashlib, hmac, json, os
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
KEY_ID = "LTAI5tAgentproofDemoKey"
DATE = "2025-07-18T06:39:08Z"


def pe(s):
    return quote(s, safe="-_.~")


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(folder, f"seed-{name}"), "wb") as f:
            f.write(data)


RTC_CONFIG = '{"UserId":"agent_1","TargetUserIds":["user_1"],"UserInactivityTimeout":30}'
VOICE = '{"ChatMode":1,"InterruptMode":1,"Greeting":"hello","ASRConfig":{"MaxSentenceSilence":800},"TTSConfig":{"Vendor":"aliyun","Model":"cosyvoice-v1","Voice":"longxiaoxia","Volume":50}}'
RUNTIME = '{"AgentUserId":"agent_1","ChannelId":"channel_1","AuthToken":"token"}'
CALLS = {
    "start-agent": ("StartAgent", "2018-01-11", [("AppId", "app1"), ("ChannelId", "ch1"), ("TaskId", "task1"), ("TemplateId", "tpl_1"), ("RtcConfig", RTC_CONFIG), ("VoiceChatConfig", VOICE)]),
    "get-agent": ("GetAgent", "2018-01-11", [("AppId", "app1"), ("ChannelId", "ch1"), ("TaskId", "task1")]),
    "start-instance": ("StartAIAgentInstance", "2020-11-09", [("AIAgentId", "agent_x"), ("RuntimeConfig", RUNTIME)]),
    "update-instance": ("UpdateAIAgentInstance", "2020-11-09", [("InstanceId", "39f8e0bc005e4f30"), ("TemplateConfig", '{"VoiceChat":{"Greeting":"hi again"}}')]),
    "call": ("GenerateAIAgentCall", "2020-11-09", [("AIAgentId", "agent_x"), ("Expire", "600"), ("UserId", "user_1")]),
    "chat-token": ("GenerateMessageChatToken", "2020-11-09", [("AIAgentId", "agent_x"), ("UserId", "user_1"), ("Role", "user"), ("Expire", "1800")]),
}


def query(params):
    return "&".join(f"{pe(k)}={pe(v)}" for k, v in params)


def v1_seeds():
    seeds = {}
    for name, (action, version, params) in CALLS.items():
        common = [("Action", action), ("Version", version), ("Format", "JSON"), ("AccessKeyId", KEY_ID),
                  ("SignatureMethod", "HMAC-SHA1"), ("SignatureVersion", "1.0"),
                  ("SignatureNonce", f"nonce-{name}"), ("Timestamp", DATE)]
        # flags: bit 3 sign; GET with everything in the query
        seeds[f"{name}-get"] = bytes([0b1000]) + query(common + params).encode() + b"\n"
        # POST, form body (bit 0, content type 1), action params in the body
        seeds[f"{name}-form"] = bytes([0b1011]) + query(common).encode() + b"\n" + query(params).encode()
    # PROTOCOLS.md §1.1 vector 1 as sent, unsigned by the target (another key, another date).
    vector = [("Version", "2014-05-26"), ("Action", "DescribeRegions"), ("Format", "XML"),
              ("SignatureMethod", "HMAC-SHA1"), ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
              ("SignatureVersion", "1.0"), ("AccessKeyId", "testid"), ("Timestamp", "2016-02-23T12:46:24Z"),
              ("Signature", "OLeaidS1JvxuMvnyHOwuJ+uX5qY=")]
    seeds["vector-1"] = bytes([0]) + query(vector).encode() + b"\n"
    # JSON body (content type 2), replayed (bit 4).
    action, version, params = CALLS["get-agent"]
    common = [("Action", action), ("Version", version), ("AccessKeyId", KEY_ID), ("SignatureMethod", "HMAC-SHA1"),
              ("SignatureVersion", "1.0"), ("SignatureNonce", "nonce-json"), ("Timestamp", DATE)]
    seeds["get-agent-json-replayed"] = bytes([0b11101]) + query(common).encode() + b"\n" + json.dumps(dict(params)).encode()
    return seeds


SIGNED = "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"


def v3_seeds():
    seeds = {}
    for name, (action, version, params) in CALLS.items():
        head = [f"/?{query(params)}", "host: ice.cn-shanghai.aliyuncs.com", f"x-acs-action: {action}",
                f"x-acs-version: {version}", f"x-acs-date: {DATE}", f"x-acs-signature-nonce: nonce-{name}",
                "x-acs-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                f"authorization: ACS3-HMAC-SHA256 Credential={KEY_ID},SignedHeaders={SIGNED},Signature=0"]
        # POST (bit 0), body hash fixed (bit 1), signed (bit 2)
        seeds[name] = bytes([0b0111]) + ("\n".join(head) + "\n\n").encode()
    # PROTOCOLS.md §1.2 vector as sent (the official signature, key testid: refused as unknown).
    vector = ["/?InstanceId=39f8e0bc005e4f30", "host: ice.cn-shanghai.aliyuncs.com",
              "x-acs-action: DescribeAIAgentInstance", "x-acs-version: 2020-11-09", f"x-acs-date: {DATE}",
              "x-acs-signature-nonce: 3156853299f313e23d1673dc12e1703d",
              "x-acs-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              f"authorization: ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={SIGNED},Signature=0" + "a" * 63]
    seeds["vector"] = bytes([1]) + ("\n".join(vector) + "\n\n").encode()
    # A form body, hashed and signed, sent twice (bit 3).
    form = ["/", "host: rtc.aliyuncs.com", "x-acs-action: GetAgent", "x-acs-version: 2018-01-11",
            f"x-acs-date: {DATE}", "x-acs-signature-nonce: nonce-form", "content-type: application/x-www-form-urlencoded",
            "x-acs-content-sha256: 0", f"authorization: ACS3-HMAC-SHA256 Credential={KEY_ID},SignedHeaders={SIGNED};content-type,Signature=0"]
    seeds["form-replayed"] = bytes([0b1111]) + ("\n".join(form) + "\n\n" + "AppId=app1&ChannelId=ch1&TaskId=task1").encode()
    return seeds


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def jwt(header, claims, key):
    signing = b64url(header.encode()) + b"." + b64url(claims.encode())
    sig = b64url(hmac.new(key.encode(), signing, hashlib.sha256).digest())
    return signing + b"." + sig


def jwt_seeds():
    claims = '{"exp":1752822548,"iat":1752820700,"appId":"1234567890"}'
    return {
        # PROTOCOLS.md §5.1's example token.
        "protocols-example": b"\x00" + b"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDE4MDAsImlhdCI6MTcwMDAwMDAwMCwiYXBwSWQiOiIxMjM0NTY3ODkwIn0.8s3WMTmFNqmMMr6Rh14Xpm5asU1P5uj9QdYzVAvkK3w",
        "valid-now": b"\x00" + jwt('{"typ":"JWT","alg":"HS256"}', claims, "agentproof-duix-demo-key"),
        "alg-none": b"\x00" + b64url(b'{"alg":"none"}') + b"." + b64url(claims.encode()) + b".",
        "bearer": b"\x00Bearer " + jwt('{"typ":"JWT","alg":"HS256"}', '{"sub":"demo","iat":1752820700,"exp":1753425500}', "agentproof-aui-fuzz-jwt-key"),
        # Claims signed by the target (bit 0).
        "claims": b"\x01" + claims.encode(),
        "claims-extra": b"\x01" + b'{"appId":"1234567890","userId":"u1","timestamp":5,"iat":1,"exp":1752822548,"nbf":1752820000}',
        "claims-sub": b"\x01" + b'{"sub":"demo","iat":1752820700,"exp":1753425500}',
    }


def aui_seeds():
    bodies = [
        {"username": "demo", "password": "agentproof-demo"},
        {"user_id": "alice", "channel_id": "ch-1_A"},
        {"ai_agent_id": "agent_x", "user_id": "u_1", "role": "user", "expire": 1800, "region": "cn-shanghai"},
        {"user_id": "u_1", "ai_agent_instance_id": "39f8e0bc005e4f30", "region": "cn-shanghai"},
        {"user_id": "u_1", "workflow_type": "VoiceChat", "template_config": "{\"VoiceChat\":{}}", "user_data": {"a": 1}, "session_id": "s1", "chat_sync_config": {}},
        {"user_id": "u_1", "ai_agent_id": "agent_x", "channel_id": "ch1", "workflow_type": "AvatarChat3D", "region": "ap-southeast-1"},
        {"ai_agent_instance_id": "39f8e0bc005e4f30"},
        {"ai_agent_instance_id": "39f8e0bc005e4f30", "template_config": {"VoiceChat": {"Greeting": "hi"}}, "user_data": "x"},
        {"expire": "600", "template_config": {}, "workflow_type": "visionchat", "user_id": None},
    ]
    return {str(i): bytes([i]) + json.dumps(b).encode() for i, b in enumerate(bodies)}


def ws_seeds():
    frames = [
        {"type": "start", "conversationId": "dh-1", "userId": "u1"},
        {"type": "start"},
        {"type": "question", "text": "你好", "conversationId": "dh-1"},
        {"type": "question", "text": "hello"},
        {"type": "stop"},
        {"type": "stop", "x": 1},
        {"type": "dance"},
    ]
    return {str(i): json.dumps(f, ensure_ascii=False).encode() for i, f in enumerate(frames)}


def sse_seeds():
    return {
        "stream": bytes([7]) + 'data: {"answer":"你","isEnd":false}\n\ndata: {"answer":"好","isEnd":true}\n\n'.encode(),
        "crlf-comment": bytes([2]) + b': keep-alive\r\n\r\nevent: message\r\ndata: {"answer":"a",\r\ndata: "isEnd":true}\r\n\r\n',
        "done": bytes([63]) + b'data: {"answer":"a"}\n\ndata: [DONE]\n\n',
        "unterminated": bytes([0]) + b'data: {"answer":"tail","isEnd":true}',
        "json": bytes([10]) + b'{"code":"200","msg":"ok","success":true,"data":{"conversationId":"c","answer":"{\\"answer\\":\\"hi\\"}"}}',
        "json-object": bytes([10]) + b'{"success":true,"data":{"answer":{"answer":"hi","operations":{}}}}',
    }


def llm_seeds():
    def chunk(delta, finish=None):
        return ("data: " + json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}, ensure_ascii=False) + "\n\n").encode()
    good = chunk({"role": "assistant", "content": ""}) + chunk({"content": "你好"}) + chunk({}, "stop") + b"data: [DONE]\n\n"
    return {
        "stream": bytes([9]) + good,
        "crlf-comment": bytes([3]) + b": keep-alive\r\n\r\n" + good.replace(b"\n", b"\r\n"),
        "no-done": bytes([63]) + chunk({"content": "a"}) + chunk({}, "stop"),
        "no-choices": bytes([5]) + b'data: {"object":"chat.completion.chunk","content":"a"}\n\ndata: [DONE]\n\n',
        "after-done": bytes([1]) + good + chunk({"content": "late"}),
        "not-json": bytes([0]) + b"data: {oops\n\n",
    }


def check_seeds():
    # choice: platform = c % 3 (0 Alibaba, 1 AUI, 2 DUIX), expectation = c // 3
    def seed(choice, status, body):
        return bytes([choice]) + status.to_bytes(2, "big") + body
    rtc = base64.b64encode(json.dumps({"appid": "app", "channelid": "ch1", "userid": "u1", "nonce": "", "timestamp": 1752907148, "token": "0" * 64}).encode())
    return {
        "alibaba-error": seed(0, 300, b'{"RequestId":"4F0E4C5A-0000-0000-0000-000000000000","HostId":"rtc.aliyuncs.com","Code":"InvalidParameter","Message":"x","Recommend":"https://api.aliyun.com/troubleshoot?q=InvalidParameter"}'),
        "alibaba-start": seed(0, 100, b'{"RequestId":"r1","TaskId":"task1"}'),
        "aui-token": seed(1, 100, b'{"code":200,"rtc_auth_token":"' + rtc + b'","channel_id":"ch1","timestamp":1752907148}'),
        "aui-error": seed(4, 300, b'{"code":400,"error_code":"MissingParameter","message":"user_id is required"}'),
        "aui-java": seed(1, 100, b'{"code":500,"msg":"bad"}'),
        "duix-ok": seed(2, 100, b'{"code":"0","message":"success","data":{"appId":"1234567890","wsService":"ws://h/duix-openapi-v2/ws?sig=x"},"success":true}'),
        "duix-error": seed(2, 301, b'{"code":"1006","message":"token invalid","data":null,"success":false}'),
        "not-utf8": seed(5, 100, b'{"code":"0","message":"\xff\xfe"}'),
    }


write("alibaba_v1_query", v1_seeds())
write("alibaba_v3_authorization", v3_seeds())
write("duix_jwt", jwt_seeds())
write("aui_request", aui_seeds())
write("duix_ws_message", ws_seeds())
write("webhook_sse", sse_seeds())
write("check_answer", check_seeds())
write("llm_stream", llm_seeds())
