// An SMTP sink on 127.0.0.1 for the server's mail (GATEHOUSE_SMTP_URL=
// smtp+plain://127.0.0.1:PORT): it accepts every message, parses it, and
// lets the flows wait for the mail sent to an address and read its link.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * Starts the sink on 127.0.0.1:`port`. Every mail is also saved to
 * `saveDir` (NN-to.txt and NN-to.html), when given. Returns { mails,
 * waitFor, close }.
 */
export async function startMailSink(port, { saveDir } = {}) {
  const mails = [];
  const waiters = new Set();
  const server = new SMTPServer({
    // Plain SMTP on loopback: no TLS, no authentication.
    secure: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    banner: 'gatehouse browser checks',
    size: 1024 * 1024,
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((m) => {
          const mail = {
            from: m.from ? m.from.text : '',
            to: (session.envelope.rcptTo || []).map((r) => r.address.toLowerCase()),
            subject: m.subject || '',
            text: m.text || '',
            html: typeof m.html === 'string' ? m.html : '',
            lang: m.headers.get('content-language') || null,
            at: Date.now(),
          };
          mails.push(mail);
          if (saveDir) {
            mkdirSync(saveDir, { recursive: true });
            const file = `${String(mails.length).padStart(2, '0')}-${mail.to[0] || 'nobody'}`.replace(/[^\w.@-]/g, '_');
            const base = path.join(saveDir, file);
            writeFileSync(`${base}.txt`, `From: ${mail.from}\nTo: ${mail.to.join(', ')}\nSubject: ${mail.subject}\n\n${mail.text}`);
            if (mail.html) writeFileSync(`${base}.html`, mail.html);
          }
          for (const w of waiters) w();
          callback();
        })
        .catch((e) => callback(e));
    },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });

  /**
   * The first mail to `to` received after `since` (ms) whose subject
   * matches `subject` (a RegExp, optional); waits up to `timeout` ms.
   */
  function waitFor(to, { subject, since = 0, timeout = 15000 } = {}) {
    const match = () =>
      mails.find((m) => m.at >= since && m.to.includes(to.toLowerCase()) && (!subject || subject.test(m.subject)));
    const found = match();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = () => {
        const m = match();
        if (m) {
          clearTimeout(timer);
          waiters.delete(w);
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`no mail to ${to}${subject ? ` matching ${subject}` : ''} within ${timeout} ms (${mails.length} received)`));
      }, timeout);
      waiters.add(w);
    });
  }

  return {
    mails,
    waitFor,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The href of every link in a mail's HTML part, entities decoded. */
export function htmlLinks(mail) {
  const decode = (s) =>
    s
      .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
      .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  return [...mail.html.matchAll(/href="([^"]*)"/g)].map((m) => decode(m[1]));
}

/** The links in a mail's text part that start with `prefix`. */
export function linksIn(mail, prefix) {
  return (mail.text.match(/https?:\/\/[^\s<>"]+/g) || []).filter((u) => u.startsWith(prefix));
}
