import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resourceNames } from '../resources.ts';
import { runConsentFlow, type OAuthClient } from './oauth/consent-flow.ts';
import { localCredentialStore, secretsManagerCredentialStore } from './oauth/credential-stores.ts';
import { oauthProviders } from './oauth/providers.ts';

/**
 * `npm run authorize -- <type> <name>`: runs a provider's OAuth consent flow on the operator's
 * machine (a browser and a loopback redirect, as `rclone authorize` does) and stores the refresh
 * token as `credentials/<name>`, which a delivery names with `auth_secret: "<name>"`. Locally in
 * the secrets file `npm start` reads; with `--aws`, in Secrets Manager under the deployment's prefix.
 */
const usage = `usage: npm run authorize -- <${Object.keys(oauthProviders).join('|')}> <name> [--aws] [--state-dir DIR] [--port N] [--no-browser] [--client-id ID --client-secret SECRET]`;
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    aws: { type: 'boolean', default: false },
    'state-dir': { type: 'string', default: process.env.UD_STATE_DIR ?? '.local' },
    port: { type: 'string', default: '0' },
    'no-browser': { type: 'boolean', default: false },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
  },
});
const [type = '', name = ''] = positionals;
const provider = oauthProviders[type];
if (!provider || !/^[A-Za-z0-9/_+=.@-]{1,256}$/.test(name)) {
  console.error(usage);
  process.exit(2);
}

/** Opens the URL in the operator's browser where a desktop has one; the URL is printed either way. */
function openBrowser(url: string): void {
  console.log(`\nOpen this page, sign in with the account whose ${type} channel deliveries go to, and allow access:\n\n  ${url}\n`);
  if (values['no-browser']) return;
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  spawn(command, [url], { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
}

async function authorize(): Promise<void> {
  const store = values.aws
    ? secretsManagerCredentialStore(new SecretsManagerClient({}), resourceNames.secretPrefix)
    : localCredentialStore(join(values['state-dir'], 'secrets.json'));
  const client: OAuthClient =
    values['client-id'] && values['client-secret'] ? { clientId: values['client-id'], clientSecret: values['client-secret'] } : await store.readClient(type, provider!.clientFields);
  const granted = await runConsentFlow({ provider: provider!, client, port: Number(values.port), open: openBrowser });
  const where = await store.writeCredentials(name, { refresh_token: granted.refreshToken, ...(granted.scope ? { scope: granted.scope } : {}) });
  console.log(`Stored the refresh token in ${where}.\nDeliver with: { "type": "${type}", "auth_secret": "${name}", … }`);
}

await authorize().catch((error: unknown) => {
  console.error(`authorize: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
