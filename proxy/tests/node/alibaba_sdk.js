#!/usr/bin/env node
// Interop check: Alibaba Cloud's official Node SDK cores against an Alibaba endpoint (here
// agentproof proxy in front of the embedded mock). @alicloud/openapi-client's callApi signs
// with V3 (ACS3-HMAC-SHA256), as the generated product SDKs do; @alicloud/pop-core's RPCClient
// signs RPC V1 (HMAC-SHA1). Each runs an instance's lifecycle, an RTC agent task, the two token
// actions, and two refusals (a wrong secret: SignatureDoesNotMatch 400; a missing parameter:
// MissingInstanceId 400).
//
// Prints one JSON line per check ({"check", "ok", "detail"}) and exits 1 if any failed.
//   node alibaba_sdk.js --endpoint 127.0.0.1:PORT --access-key-id ID --access-key-secret SECRET
'use strict';

const OpenApi = require('@alicloud/openapi-client');
const RPCClient = require('@alicloud/pop-core').RPCClient;

const RTC = '2018-01-11';
const ICE = '2020-11-09';

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    out[argv[i].replace(/^--/, '')] = argv[i + 1];
  }
  for (const name of ['endpoint', 'access-key-id', 'access-key-secret']) {
    if (!out[name]) {
      console.error(`missing --${name}`);
      process.exit(2);
    }
  }
  return out;
}

let failed = 0;
async function check(name, fn) {
  let ok = true;
  let detail;
  try {
    detail = await fn();
  } catch (e) {
    ok = false;
    detail = `${e.name}: ${e.message}`;
  }
  if (!ok) failed += 1;
  console.log(JSON.stringify({ check: name, ok, detail }));
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// V3 through callApi, as the generated SDKs call it: POST /, params in the query.
function v3(a, secret) {
  const config = new OpenApi.Config({
    accessKeyId: a['access-key-id'],
    accessKeySecret: secret || a['access-key-secret'],
    endpoint: a.endpoint,
    protocol: 'http',
  });
  const client = new OpenApi.default(config);
  return async (action, version, query) => {
    const params = new OpenApi.Params({
      action, version, protocol: 'HTTP', pathname: '/', method: 'POST', authType: 'AK',
      style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
    });
    const request = new OpenApi.OpenApiRequest({ query });
    const answer = await client.callApi(params, request, {});
    expect(answer.statusCode === 200, `HTTP ${answer.statusCode}`);
    expect(answer.body && answer.body.RequestId, `no RequestId in ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
}

async function v3Refused(call, action, version, query, code, status) {
  try {
    await call(action, version, query);
  } catch (e) {
    expect(e.code === code, `code ${e.code}, want ${code}`);
    expect(e.statusCode === status || (e.data && e.data.statusCode === status), `status ${e.statusCode}, want ${status}`);
    return { code: e.code };
  }
  throw new Error(`no error, want ${code}`);
}

// V1 through pop-core's RPCClient.
function v1(a, version, secret) {
  const client = new RPCClient({
    accessKeyId: a['access-key-id'],
    accessKeySecret: secret || a['access-key-secret'],
    endpoint: `http://${a.endpoint}`,
    apiVersion: version,
  });
  return async (action, params) => {
    const body = await client.request(action, params, { method: 'POST', formatParams: false });
    expect(body && body.RequestId, `no RequestId in ${JSON.stringify(body)}`);
    return body;
  };
}

async function v1Refused(call, action, params, code) {
  try {
    await call(action, params);
  } catch (e) {
    expect(e.code === code, `code ${e.code}, want ${code}`);
    return { code: e.code };
  }
  throw new Error(`no error, want ${code}`);
}

async function main() {
  const a = args();
  const call = v3(a);
  const state = {};
  await check('v3 ice StartAIAgentInstance', async () => {
    const runtime = JSON.stringify({ AgentUserId: 'agent_node', ChannelId: 'ch_node', AuthToken: 'tok' });
    const body = await call('StartAIAgentInstance', ICE, { AIAgentId: 'agent-id-1', RuntimeConfig: runtime });
    expect(body.InstanceId && body.InstanceId.length === 32, `InstanceId ${body.InstanceId}`);
    state.instance = body.InstanceId;
    return body;
  });
  await check('v3 ice DescribeAIAgentInstance executing', async () => {
    const body = await call('DescribeAIAgentInstance', ICE, { InstanceId: state.instance });
    expect(body.Instance.Status === 'Executing', `Status ${body.Instance.Status}`);
    return body;
  });
  await check('v3 ice GenerateMessageChatToken', async () => {
    const body = await call('GenerateMessageChatToken', ICE, { AIAgentId: 'agent-id-1', UserId: 'user_node', Role: 'admin' });
    expect(body.Token.startsWith('acet'), `Token ${body.Token}`);
    return { UserId: body.UserId };
  });
  await check('v3 ice StopAIAgentInstance', async () => call('StopAIAgentInstance', ICE, { InstanceId: state.instance }));
  await check('v3 wrong secret', async () => v3Refused(v3(a, 'not-the-secret'), 'DescribeAIAgentInstance', ICE, { InstanceId: 'x' }, 'SignatureDoesNotMatch', 400));
  await check('v3 missing parameter', async () => v3Refused(call, 'DescribeAIAgentInstance', ICE, {}, 'MissingInstanceId', 400));

  const rtc = v1(a, RTC);
  const ids = { AppId: 'app1', ChannelId: `ch_node_${Date.now()}`, TaskId: 'task_node' };
  await check('v1 rtc StartAgent', async () => rtc('StartAgent', {
    ...ids, TemplateId: 'tpl1', RtcConfig: JSON.stringify({ UserId: 'agent1', TargetUserIds: ['u1'] }),
  }));
  await check('v1 rtc GetAgent', async () => {
    const body = await rtc('GetAgent', ids);
    expect(body.Status === '1', `Status ${body.Status}`);
    return body;
  });
  await check('v1 rtc StopAgent', async () => rtc('StopAgent', ids));
  const ice = v1(a, ICE);
  await check('v1 ice GenerateAIAgentCall', async () => ice('GenerateAIAgentCall', { AIAgentId: 'agent-id-1', Expire: 600 }));
  await check('v1 ice GenerateMessageChatToken', async () => ice('GenerateMessageChatToken', { AIAgentId: 'agent-id-1', UserId: 'user_node' }));
  await check('v1 wrong secret', async () => v1Refused(v1(a, ICE, 'not-the-secret'), 'DescribeAIAgentInstance', { InstanceId: 'x' }, 'SignatureDoesNotMatch'));
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
