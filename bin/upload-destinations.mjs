#!/usr/bin/env node
// `npx upload-destinations`: the CLI is TypeScript, run the way the project runs its scripts (tsx).
// npx puts node_modules/.bin first on PATH, so `node` is the project's Node 22.
import { register } from 'tsx/esm/api';

register();
await import('../infra/cli/upload-destinations/main.ts');
