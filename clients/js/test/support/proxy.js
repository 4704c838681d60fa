// A TCP proxy between the client and the node, so a test can cut the
// connection (destroy both sockets), point it at a restarted node, or refuse
// WebSocket upgrades while plain HTTP still passes.
import net from 'node:net';

export class TcpProxy {
  static async start(targetPort) {
    const proxy = new TcpProxy(targetPort);
    await new Promise((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.port = proxy.#server.address().port;
    return proxy;
  }

  #server;
  #pairs = new Set();
  targetPort;
  // 'pass': forward everything; 'refuse-ws': answer a WebSocket upgrade with
  // 503 and forward other requests; 'refuse': close every new connection.
  mode = 'pass';
  upgradesRefused = 0;

  constructor(targetPort) {
    this.targetPort = targetPort;
    this.#server = net.createServer((client) => this.#accept(client));
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/v1`;
  }

  get httpUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  #accept(client) {
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    client.once('data', (first) => {
      if (this.mode === 'refuse-ws' && /^upgrade:\s*websocket/im.test(first.toString('latin1'))) {
        this.upgradesRefused++;
        client.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      const pair = { client, upstream };
      this.#pairs.add(pair);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.#pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    client.on('error', () => client.destroy());
  }

  // Cuts every open connection at once, as a network failure would.
  dropAll() {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
  }

  get connections() {
    return this.#pairs.size;
  }

  async close() {
    this.dropAll();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
