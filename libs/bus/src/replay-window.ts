/**
 * Which sequence numbers of one sender's incarnation were already accepted: the highest, and a
 * window of the WINDOW below it (anti-replay as in IPsec, RFC 4303 §3.4.3). Frames on one path
 * arrive in order, so the window only has to absorb what a reconnect or a second path reorders;
 * anything older than the window is refused, and the protocols' retransmission covers it.
 */
export class ReplayWindow {
  static readonly WINDOW = 1024;
  private max = 0;
  /** slot seq % WINDOW holds the last seq accepted there. */
  private readonly slots = new Float64Array(ReplayWindow.WINDOW);

  /**
   * `floor`: the first sequence number heard; anything below it is refused. A receiver that starts
   * (or meets a new incarnation) mid-stream cannot know which earlier frames it already had — in
   * its previous life — so it takes none of them: a frame captured before a restart is not replayed
   * into the new process once the sender's first new frame has arrived.
   */
  constructor(private readonly floor = 1) {}

  /** Accepts `seq` once: true the first time, false for a repeat, one below the window, or below the floor. */
  accept(seq: number): boolean {
    if (seq < this.floor) return false;
    const slot = seq % ReplayWindow.WINDOW;
    if (seq > this.max) {
      this.max = seq;
      this.slots[slot] = seq;
      return true;
    }
    if (this.max - seq >= ReplayWindow.WINDOW || this.slots[slot] === seq) return false;
    this.slots[slot] = seq;
    return true;
  }
}
