import { Controller, Get, Inject, NotFoundException, Optional, Param, Req, Res, Type, UseGuards } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DASHBOARD_PATH, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { OperatorFeedState } from '../gateway/operator-feed.js';
import { OperatorApiGuard } from '../operator/operator-api.guard.js';
import { readAsset, renderPage } from './dashboard-assets.js';
import { DASHBOARD_HEADERS } from './dashboard.headers.js';

/**
 * The operator dashboard, mounted at `/{operator.path}` with the operator API: the page and its
 * files, behind the same `operator.authorize(req)` gate (403, no data). Everything it shows comes
 * from the operator API (`./api`) and the operator feed (`operator-feed.ts`); the page itself
 * holds no data. Off (404) when `operator.dashboard` is false.
 */
export function createDashboardController(): Type<unknown> {
  @Controller()
  @UseGuards(OperatorApiGuard)
  class ManagedJobsDashboardController {
    constructor(
      @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
      private readonly adapterHost: HttpAdapterHost,
      @Inject(DASHBOARD_PATH) readonly path: string,
      @Optional() private readonly feed?: OperatorFeedState,
    ) {}

    @Get()
    page(@Req() req: any, @Res({ passthrough: true }) res: unknown): string {
      this.send(res, 'text/html; charset=utf-8');
      // Links are absolute from where the page was asked for, so a global prefix or proxy path is kept.
      const url = String(req.originalUrl ?? req.url ?? '');
      const base = url.split(/[?#]/)[0].replace(/\/+$/, '');
      return renderPage(base, this.feed?.live ?? null);
    }

    @Get('assets/:file')
    asset(@Param('file') file: string, @Res({ passthrough: true }) res: unknown): string {
      const asset = this.options.operator.dashboard ? readAsset(String(file)) : null;
      if (!asset || file === 'index.html') throw new NotFoundException();
      this.send(res, asset.type);
      return asset.body;
    }

    private send(res: unknown, type: string): void {
      if (!this.options.operator.dashboard) throw new NotFoundException();
      const http = this.adapterHost.httpAdapter;
      http.setHeader(res, 'Content-Type', type);
      for (const [name, value] of Object.entries(DASHBOARD_HEADERS)) http.setHeader(res, name, value);
    }
  }
  return ManagedJobsDashboardController;
}
