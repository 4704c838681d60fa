// tickgate-client: a browser and Node client of tickgate's native protocol.
export { TickgateClient, Status } from './src/client.js';
export { Subscription } from './src/subscription.js';
