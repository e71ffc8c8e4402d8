import { Packr } from 'msgpackr';

/**
 * Plain MessagePack: no records or shared structures, so the bytes depend on the value alone
 * (the snapshot's bytes are hashed for the digest).
 */
export const packr = new Packr({ useRecords: false, moreTypes: false });
