// A local HTTP server speaking the OpenAI chat-completions wire format (SSE streaming), for
// browser tests of the assistant with a language model. It streams the scripted words one
// chunk at a time, slowly enough that a test can watch the answer grow, and records each
// request body so tests can see what a provider would receive.
import { createServer } from 'node:http';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts the server; `answer` is the list of chunks every request streams back. */
export async function startOpenAiWire({ chunks, delayMs = 150 }) {
  const requests = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const part of req) body += part;
    const json = JSON.parse(body || '{}');
    requests.push(json);
    if (!req.url.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    const base = { id: 'chatcmpl-e2e', object: 'chat.completion.chunk', created: 0, model: json.model };
    if (!json.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        ...base, object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: chunks.join('') }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 50, completion_tokens: chunks.length, total_tokens: 50 + chunks.length },
      }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    // Like llama.cpp's server: a first chunk with a role and null content.
    res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: null } }] })}\n\n`);
    for (const c of chunks) {
      await sleep(delayMs);
      res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: c } }] })}\n\n`);
    }
    res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
    res.write(`data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 50, completion_tokens: chunks.length, total_tokens: 50 + chunks.length } })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    baseUrl: `http://127.0.0.1:${server.address().port}/v1`,
    requests,
    close: () => new Promise((r) => server.close(r)),
  };
}
