#!/usr/bin/env node
// Links this checkout's own `nimbus` command into node_modules/.bin (npm links only the bins of
// dependencies), so npm scripts and a shell with node_modules/.bin on its PATH find it.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const binDir = join('node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
const link = join(binDir, 'nimbus');
rmSync(link, { force: true });
symlinkSync(join('..', '..', 'bin', 'nimbus.js'), link);
