#!/usr/bin/env node
// Links this checkout's own `nimbus` command into node_modules/.bin, so that `npx nimbus` run
// anywhere inside the checkout uses it instead of looking for a package of that name online.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const binDir = join('node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
const link = join(binDir, 'nimbus');
rmSync(link, { force: true });
symlinkSync(join('..', '..', 'bin', 'nimbus.js'), link);
