// Alerts for agents who are looking at another tab or view: a desktop notification and a short
// chime for new conversations and new visitor messages.
//
// Browsers only let a page ask for notification permission, or start audio, from a user
// gesture, and asking on page load is rude. So the console shows an "Enable notifications"
// button that asks when clicked, and the audio context is created on the first click or key
// press. The chime is synthesised with Web Audio, so there is no sound file to ship or fetch.

import { saved } from './dom.js';

export class Notifier {
  constructor() {
    this.soundOn = saved.get('sound', true);
    this.audio = null;
    // The first gesture unlocks audio for the rest of the session.
    const unlock = () => {
      this.unlockAudio();
      removeEventListener('pointerdown', unlock, true);
      removeEventListener('keydown', unlock, true);
    };
    addEventListener('pointerdown', unlock, true);
    addEventListener('keydown', unlock, true);
  }

  /** 'granted' | 'denied' | 'default' | 'unsupported' */
  get permission() {
    return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
  }

  /** Asks for permission; call from a click handler only. */
  async request() {
    if (this.permission !== 'default') return this.permission;
    try {
      return await Notification.requestPermission();
    } catch {
      return this.permission;
    }
  }

  setSound(on) {
    this.soundOn = on;
    saved.set('sound', on);
    if (on) this.unlockAudio();
  }

  unlockAudio() {
    const Ctx = globalThis.AudioContext || globalThis.webkitAudioContext;
    if (!Ctx) return;
    try {
      this.audio ||= new Ctx();
      if (this.audio.state === 'suspended') this.audio.resume();
    } catch {
      this.audio = null;
    }
  }

  /** Two soft notes; quiet enough not to startle, distinct enough to hear across a room. */
  chime() {
    if (!this.soundOn || !this.audio || this.audio.state !== 'running') return false;
    const ctx = this.audio;
    const now = ctx.currentTime;
    [880, 1320].forEach((freq, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      const t0 = now + i * 0.14;
      gain.gain.setValueAtTime(0.0001, t0);
      gain.gain.exponentialRampToValueAtTime(0.15, t0 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.3);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0);
      osc.stop(t0 + 0.32);
    });
    return true;
  }

  /**
   * A desktop notification (when allowed) plus the chime. `tag` collapses repeated alerts
   * for one conversation into one; `onClick` focuses the console and opens it.
   */
  alert({ title, body, tag, onClick }) {
    this.chime();
    if (this.permission !== 'granted') return null;
    try {
      // Notification bodies are plain text; nothing here is interpreted as markup.
      const n = new Notification(title, { body: String(body || '').slice(0, 200), tag, silent: true });
      n.onclick = () => {
        globalThis.focus();
        onClick?.();
        n.close();
      };
      return n;
    } catch {
      return null;
    }
  }
}
