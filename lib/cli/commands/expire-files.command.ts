import { ManagedJobFilesService } from '../../files/managed-job-files.service.js';
import type { CliCommand } from '../cli-command.js';

export const expireFilesCommand: CliCommand = {
  name: 'expire-files',
  usage: 'expire-files',
  summary: 'Delete expired job files now (what the daily maintenance does).',
  async run({ app, out }) {
    const count = await app.get(ManagedJobFilesService).expireFiles();
    out.line(`Deleted ${count} expired file(s).`);
    return 0;
  },
};
