import { outboundNetwork } from '../../shared/net/outbound-network.ts';

/**
 * The local runtime's network: the test servers listen on 127.0.0.1, so private networks are
 * allowed, as `npm start` allows them. Suites about the guard build their own.
 */
export const localNetwork = outboundNetwork({ allowPrivateNetworks: true });
