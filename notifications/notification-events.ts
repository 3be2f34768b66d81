// The way code outside the run projection and the node inventory reports an
// event (a schedule whose fire was refused, a trigger that refused a delivery):
// written to the outbox, once per dedup key, and dispatched like every other.
import type pg from 'pg';
import { insertNotificationEvents, type NewNotificationEvent, type Queryable } from './events.js';

export class NotificationEvents {
  constructor(private readonly pool: pg.Pool) {}

  /** `client`: a transaction's client, to write the event with the change it reports. */
  async emit(event: NewNotificationEvent, client: Queryable = this.pool): Promise<void> {
    await insertNotificationEvents(client, [event]);
  }
}
