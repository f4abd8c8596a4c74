// Schedules: when each runs next, switch it on or off, or run it now.
import { get, post } from './api.js';
import { actionButton } from './actions.js';
import { badge, fill, h, table, time } from './dom.js';

export function schedules(main) {
  const list = h('div');
  fill(main, h('h2', { class: 'page-title' }, 'Schedules'), list);
  return {
    async refresh() {
      const { data } = await get('schedules');
      fill(
        list,
        table(
          'Schedules',
          ['Name', 'Cron', 'Job', 'State', 'Next run', 'Last run', 'Actions'],
          data.map((s) => {
            const name = encodeURIComponent(s.name);
            return h(
              'tr',
              { 'data-schedule': s.name },
              h('th', { scope: 'row' }, s.name),
              h('td', {}, h('code', {}, s.cron), h('span', { class: 'muted' }, ` ${s.timezone}`)),
              h('td', {}, s.jobType),
              h('td', {}, badge(s.enabled ? 'enabled' : 'disabled')),
              h('td', {}, time(s.nextRunAt)),
              h('td', {}, s.lastJobId ? h('a', { href: `#/jobs/${encodeURIComponent(s.lastJobId)}` }, time(s.lastRunAt)) : time(s.lastRunAt)),
              h(
                'td',
                { class: 'actions' },
                s.enabled
                  ? actionButton('Disable', { run: () => post(`schedules/${name}/disable`), done: () => `${s.name} disabled.`, key: `disable:${s.name}`, ariaLabel: `Disable schedule ${s.name}` })
                  : actionButton('Enable', { run: () => post(`schedules/${name}/enable`), done: () => `${s.name} enabled.`, key: `enable:${s.name}`, ariaLabel: `Enable schedule ${s.name}` }),
                actionButton('Run now', { run: () => post(`schedules/${name}/trigger`), done: (r) => `${s.name} dispatched job ${r.jobId}.`, key: `trigger:${s.name}`, ariaLabel: `Run schedule ${s.name} now` }),
              ),
            );
          }),
          { empty: 'No schedule.', hideCaption: true },
        ),
      );
    },
  };
}
