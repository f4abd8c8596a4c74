import { Controller, Get, Query, Res } from '@nestjs/common';
import { DEMO_COOKIE, demoUserId } from './demo-auth.middleware.js';

/**
 * The demo's stand-in for a login page: `GET /demo/sign-in?user=admin` sets the session cookie
 * and opens the operator dashboard (which only "admin" may see). A real app signs its users in.
 */
@Controller('demo')
export class DemoSignInController {
  @Get('sign-in')
  signIn(@Query('user') user: string, @Res() res: { cookie(name: string, value: string, options: object): void; redirect(status: number, url: string): void }) {
    const id = demoUserId(user) ?? 'demo';
    res.cookie(DEMO_COOKIE, id, { httpOnly: true, sameSite: 'strict', path: '/' });
    res.redirect(303, '/managed-jobs');
  }
}
