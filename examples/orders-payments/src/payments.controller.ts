import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { incrementOnce, once, op, SynodClient, SynodContext } from '@app/client';
import { settings, type Charge, type ChargeResult, type Order } from './settings';

/**
 * The payments consumer group: every instance (same GROUP) takes its share of the messages.
 * Effects are Synod writes made with `once`, keyed by the message id: a message delivered twice
 * (an instance killed before its ack) is counted and charged once.
 */
@Controller()
export class PaymentsController {
  private readonly log = new Logger(PaymentsController.name);

  constructor(private readonly synod: SynodClient) {}

  /** Counts orders per customer: `<prefix>orders/<customer>`, once per message (the message id is the marker). */
  @EventPattern('orders.created')
  async orderCreated(@Payload() order: Order, @Ctx() ctx: SynodContext): Promise<void> {
    const applied = await incrementOnce(this.synod, ctx.getId(), `${settings.prefix}orders/${order.customer}`, 1, { prefix: `${settings.prefix}processed/` });
    this.log.log(`${ctx.getId()} order ${order.id} of ${order.customer} (attempt ${ctx.getAttempt()}${applied ? '' : ', counted before'})`);
  }

  /**
   * Charges an order once, whatever the number of requests for it (a retried POST /orders is a new
   * request message): the marker is the order's (`once` with `charge/<orderId>`), and a second
   * request answers with the first charge.
   */
  @MessagePattern('payments.charge')
  async charge(@Payload() c: Charge, @Ctx() ctx: SynodContext): Promise<ChargeResult> {
    if (!(c.amount > 0)) throw new RpcException({ code: 'invalid-amount', message: 'amount must be positive' });
    const record = `${settings.prefix}charges/${c.orderId}`;
    const r = await once(this.synod, `charge/${c.orderId}`, [op.put(record, { amount: c.amount, paymentId: ctx.getId() })], {
      prefix: `${settings.prefix}processed/`,
    });
    const paymentId = r.applied ? ctx.getId() : ((await this.synod.get<{ paymentId: string }>(record))?.value.paymentId ?? 'unknown');
    return { orderId: c.orderId, status: r.applied ? 'charged' : 'already charged', paymentId, by: settings.instance };
  }
}
