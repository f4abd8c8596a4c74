/**
 * The sample's operator command line: `npm run jobs-cli -- <command>` (try `-- --help`).
 *
 *   npm run jobs-cli -- stats
 *   npm run jobs-cli -- list --status failed
 *   npm run jobs-cli -- retry --failed
 *   npm run jobs-cli -- work --stop-when-empty
 */
import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runManagedJobsCli } from '../../lib/index.js';
import { AppModule } from './app.module.js';

mkdirSync(process.env.SAMPLE_DATA_DIR ?? join(process.cwd(), 'sample', 'data'), { recursive: true });
process.exitCode = await runManagedJobsCli(AppModule);
