// A local server speaking Slack's incoming-webhook API (and any JSON webhook):
// it records every POST by path and answers "ok", or fails as a path is told to.
import http from 'node:http';
import type net from 'node:net';

export interface ReceivedPost {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export async function startFakeChat() {
  const posts: ReceivedPost[] = [];
  /** Per path: how many of the next requests answer 500. */
  const failures = new Map<string, number>();
  const server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      posts.push({ path, headers: request.headers, body, at: Date.now() });
      const left = failures.get(path) ?? 0;
      if (left > 0) {
        failures.set(path, left - 1);
        response.writeHead(500, { 'content-type': 'text/plain' }).end('internal_error');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    posts,
    to: (path: string) => posts.filter((post) => post.path === path),
    failNext(path: string, count: number) {
      failures.set(path, count);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
