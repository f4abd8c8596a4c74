import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppModule } from './app.module.js';

async function bootstrap() {
  mkdirSync(process.env.SAMPLE_DATA_DIR ?? join(process.cwd(), 'sample', 'data'), { recursive: true });
  const app = await NestFactory.create<NestExpressApplication>(AppModule);
  app.useStaticAssets(join(process.cwd(), 'sample', 'public'));
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, process.env.HOST ?? '127.0.0.1');
  console.log(`Sample app on http://localhost:${port} (SQLite: sample/data/jobs.sqlite). Ctrl-C to stop.`);
}

void bootstrap();
