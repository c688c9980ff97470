/**
 * How the manager tells its own retained writes from a stranger's: with
 * echoes (MQTT 3.1.1, its writes come back) a late echo of its previous write
 * is not drift; without them ("no local" on MQTT 5) anything it did not write
 * last is, even what it had written there before.
 */
import { describe, expect, it } from 'vitest';
import { RetainedLedger } from '../manager/link/retainedLedger';

const TOPIC = 'stopsign/v2/stop/CEN/announcement';
const bytes = (text: string) => Buffer.from(text);

describe('retained ledger', () => {
  it('takes a late echo of the previous write as the manager’s own', () => {
    const ledger = new RetainedLedger(true);
    ledger.published(TOPIC, '');
    ledger.published(TOPIC, 'A');
    ledger.delivered(TOPIC, bytes(''), false);
    ledger.delivered(TOPIC, bytes('A'), false);
    expect(ledger.drifted()).toEqual([]);
  });

  it('sees a stranger write back the cleared value once the last echo has come', () => {
    const ledger = new RetainedLedger(true);
    ledger.published(TOPIC, '');
    ledger.delivered(TOPIC, bytes(''), false);
    ledger.published(TOPIC, 'A');
    ledger.delivered(TOPIC, bytes('A'), false);
    ledger.delivered(TOPIC, bytes(''), false);
    expect(ledger.drifted()).toEqual([TOPIC]);
  });

  it('without echoes, takes anything but the last write as drift', () => {
    const ledger = new RetainedLedger(false);
    ledger.published(TOPIC, '');
    ledger.published(TOPIC, 'A');
    ledger.delivered(TOPIC, bytes(''), false);
    expect(ledger.drifted()).toEqual([TOPIC]);
    ledger.delivered(TOPIC, bytes('A'), false);
    expect(ledger.drifted()).toEqual([]);
  });

  it('leaves topics it holds no belief about alone, unless only the manager may write them', () => {
    const ledger = new RetainedLedger(false);
    ledger.delivered('stopsign/v2/stop/MKT/arrivals', bytes('x'), false);
    ledger.delivered(TOPIC, bytes('forged'), true);
    expect(ledger.drifted()).toEqual([TOPIC]);
  });
});
