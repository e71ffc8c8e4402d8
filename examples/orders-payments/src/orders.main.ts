import { randomUUID } from 'node:crypto';
import { Body, Controller, GatewayTimeoutException, Get, Inject, Module, Param, Post, UnprocessableEntityException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { firstValueFrom } from 'rxjs';
import { SynodClient, SynodClientProxy, SynodModule, SynodRecord, SynodReplyTimeoutError } from '@app/client';
import { settings, type ChargeResult, type Order } from './settings';

const BUS = Symbol('BUS');

@Controller('orders')
class OrdersController {
  constructor(
    @Inject(BUS) private readonly bus: SynodClientProxy,
    private readonly synod: SynodClient,
  ) {}

  /**
   * POST /orders {"customer","amount","id"?}: emits `orders.created` (keyed by customer, so one
   * customer's orders are handled in order) and asks `payments.charge` for the payment (a request
   * with a reply, 10 s timeout). The order id is the idempotency key: a retried POST is one order.
   */
  @Post()
  async create(@Body() body: { customer: string; amount: number; id?: string }): Promise<{ order: Order; payment: ChargeResult }> {
    const order: Order = { id: body.id ?? randomUUID(), customer: String(body.customer), amount: Number(body.amount) };
    await firstValueFrom(this.bus.emit('orders.created', new SynodRecord(order, { key: order.customer, idempotencyKey: `order/${order.id}` })));
    let payment: ChargeResult;
    try {
      payment = await firstValueFrom(
        this.bus.send<ChargeResult>('payments.charge', new SynodRecord({ orderId: order.id, amount: order.amount }, { key: order.customer })),
      );
    } catch (err) {
      // No reply in time: the charge may still happen (exactly once); the client retries with the order id.
      if (err instanceof SynodReplyTimeoutError) throw new GatewayTimeoutException(err.message);
      throw new UnprocessableEntityException(err); // the payments handler's RpcException
    }
    return { order, payment };
  }

  /** GET /orders/count/:customer — the payments group's count of this customer's orders. */
  @Get('count/:customer')
  async count(@Param('customer') customer: string): Promise<{ customer: string; orders: number }> {
    const item = await this.synod.get<number>(`${settings.prefix}orders/${customer}`);
    return { customer, orders: item?.value ?? 0 };
  }
}

@Module({
  imports: [SynodModule.forRoot({ endpoints: settings.endpoints, token: settings.token })],
  controllers: [OrdersController],
  providers: [{ provide: BUS, useFactory: () => new SynodClientProxy({ endpoints: settings.endpoints, token: settings.token, timeoutMs: 10_000 }) }],
})
class OrdersModule {}

/** The orders service: HTTP on PORT (default 4000; 0: any free). Prints `EXAMPLE_READY {"port":N}`. */
async function main(): Promise<void> {
  const app = await NestFactory.create(OrdersModule, { logger: ['log', 'warn', 'error'] });
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 4000), process.env.HOST ?? '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  process.stdout.write(`EXAMPLE_READY ${JSON.stringify({ port: address.port })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
