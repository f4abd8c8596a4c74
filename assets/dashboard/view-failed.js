// Failed jobs: retry or delete one, or all those shown (deletes ask first).
import { get, post } from './api.js';
import { actionButton } from './actions.js';
import { fill, h, table } from './dom.js';
import { JOB_HEADERS, jobRow, pager } from './view-jobs.js';

const LIMIT = 50;

export function failed(main, params) {
  const bulk = h('div', { class: 'toolbar', role: 'group', 'aria-label': 'All shown' });
  const list = h('div');
  fill(main, h('h2', { class: 'page-title' }, 'Failed jobs'), bulk, list);

  return {
    async refresh() {
      const page = await get('jobs', { status: 'failed', limit: LIMIT, page: params.get('page') || 1 });
      const ids = page.data.map((job) => job.jobId);
      const count = ids.length;
      fill(
        bulk,
        count
          ? [
              actionButton(`Retry all shown (${count})`, { run: () => post('jobs/retry', { jobIds: ids }), done: (r) => `${r.count} job(s) sent back to their queue.`, key: 'retry-all', kind: 'primary' }),
              actionButton(`Delete all shown (${count})`, {
                run: () => post('jobs/delete', { jobIds: ids }),
                done: (r) => `${r.count} job(s) deleted.`,
                confirm: `Delete these ${count} failed jobs, with their files and logs? This cannot be undone.`,
                key: 'delete-all',
                kind: 'danger',
              }),
            ]
          : [],
      );
      fill(
        list,
        table(
          'Failed jobs',
          [...JOB_HEADERS, 'Reason', 'Actions'],
          page.data.map((job) =>
            jobRow(job, [
              h('td', { class: 'reason' }, job.failedReason ?? ''),
              h(
                'td',
                { class: 'actions' },
                actionButton('Retry', { run: () => post('jobs/retry', { jobIds: [job.jobId] }), done: () => `Job ${job.jobId} sent back to its queue.`, key: `retry:${job.jobId}`, ariaLabel: `Retry job ${job.jobId}` }),
                actionButton('Delete', {
                  run: () => post('jobs/delete', { jobIds: [job.jobId] }),
                  done: () => `Job ${job.jobId} deleted.`,
                  confirm: `Delete job ${job.jobId}, with its files and logs?`,
                  key: `delete:${job.jobId}`,
                  ariaLabel: `Delete job ${job.jobId}`,
                  kind: 'danger',
                }),
              ),
            ]),
          ),
          { empty: 'No failed job.', hideCaption: true },
        ),
        pager(page.meta, (n) => (location.hash = `#/failed?page=${n}`)),
      );
    },
  };
}
