// ssh2's index also loads its SSH server, agents and key generator; the function needs the client
// and the key parser only, so it imports those modules by path (same objects, typed as the index).
declare module 'ssh2/lib/client.js' {
  import { Client } from 'ssh2';
  export default Client;
}

declare module 'ssh2/lib/protocol/keyParser.js' {
  import type { utils } from 'ssh2';
  const keyParser: { parseKey: typeof utils.parseKey };
  export default keyParser;
}
