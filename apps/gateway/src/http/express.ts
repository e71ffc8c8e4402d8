import type { IncomingMessage, ServerResponse } from 'node:http';

// @types/express is not installed: the few Express members the gateway uses, typed here.

export interface Request extends IncomingMessage {
  route?: { path: string };
  baseUrl?: string;
  originalUrl?: string;
  body?: unknown;
}

export interface Response extends ServerResponse {
  status(code: number): this;
  set(headers: Record<string, string>): this;
  set(name: string, value: string): this;
  json(body: unknown): this;
  location(url: string): this;
}

export type NextFunction = (err?: unknown) => void;
export type Middleware = (req: Request, res: Response, next: NextFunction) => void;

interface ExpressStatics {
  json(opts: { limit: number; strict: boolean; type: (req: IncomingMessage) => boolean }): Middleware;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const express = require('express') as ExpressStatics;
