import { Controller, Get, Header, NotFoundException, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LabService } from './lab.service';
import type { LabHello } from './lab-contract';

/** Past this much unsent output a slow page gets no state frames (events still queue); past the next, it is cut off and reconnects. */
const SKIP_STATE_BYTES = 1 << 20;
const CUT_OFF_BYTES = 8 << 20;
/** A comment line now and then keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

const PAGE_DIR = join(__dirname, 'page');

/** A state frame or an event goes to every open stream: encoded once, whatever the number of pages. */
const encoded = new WeakMap<object, string>();
function json(data: object): string {
  let text = encoded.get(data);
  if (text === undefined) {
    text = JSON.stringify(data);
    encoded.set(data, text);
  }
  return text;
}
const ASSETS: Record<string, string> = { 'lab.js': 'text/javascript; charset=utf-8', 'lab.css': 'text/css; charset=utf-8' };

/**
 * The fault lab: the page (shipped as files next to this one, no build step for users), and the
 * live stream it draws from. HTTP in, frames out: what they say is LabService's.
 */
@ApiTags('lab')
@Controller()
export class LabController {
  private readonly files = new Map<string, string>();

  constructor(private readonly lab: LabService) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: 'The fault lab: the cluster drawn live, its timeline and charts, and the admin actions' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'HTML page' })
  page(): string {
    return this.file('index.html');
  }

  @Get('lab/:file')
  @Header('Cache-Control', 'no-cache')
  @ApiExcludeEndpoint()
  asset(@Param('file') file: string, @Res({ passthrough: true }) res: ServerResponse): string {
    if (!Object.hasOwn(ASSETS, file)) throw new NotFoundException();
    res.setHeader('Content-Type', ASSETS[file]);
    return this.file(file);
  }

  @Get('v1/lab/state')
  @ApiOperation({ summary: "The fault lab's picture now: replicas, links, the recent timeline and chart series (what the event stream starts with)" })
  state(): LabHello {
    return this.lab.hello();
  }

  @Get('v1/lab/events')
  @ApiOperation({ summary: 'Server-Sent Events: hello (the picture now), then state frames (4 per second) and timeline events as they happen' })
  @ApiProduces('text/event-stream')
  events(@Req() req: IncomingMessage, @Res() res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    const send = (event: string, data: object): void => {
      if (res.writableLength > CUT_OFF_BYTES) return void res.destroy();
      res.write(`event: ${event}\ndata: ${json(data)}\n\n`);
    };
    send('hello', this.lab.hello());
    const stop = this.lab.stream(
      (e) => send('event', e),
      (s) => {
        if (res.writableLength <= SKIP_STATE_BYTES) send('state', s);
      },
    );
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    const close = (): void => {
      clearInterval(keepalive);
      stop();
    };
    req.once('close', close);
    res.once('close', close);
    // Gone before we listened: no close event will come.
    if (req.destroyed || res.destroyed) close();
  }

  /** Read once: the files do not change while the gateway runs. */
  private file(name: string): string {
    let text = this.files.get(name);
    if (text === undefined) {
      text = readFileSync(join(PAGE_DIR, name), 'utf8');
      this.files.set(name, text);
    }
    return text;
  }
}
