/**
 * The browser wallet (issue 20): create or import a key kept as an
 * encrypted keystore in this browser (scrypt, AES-256-GCM: `@pos/wallet-client`),
 * unlock it with its password (the secret stays in this page's memory
 * only), a verified balance, send (journaled first, then submitted, then
 * its receipt proved under a certified header), and the history. Every
 * answer is checked in the page as the CLI does: the node is trusted for
 * nothing, and a refused answer shows the refusal, never the value.
 *
 * @module
 */
import {
  ed25519PublicKey,
  formatAmount,
  fromHex,
  parseAmount,
  randomEd25519SecretKey,
  toHex,
} from '@pos/protocol';
import {
  decryptKeystore,
  encryptKeystore,
  keystoreFromText,
  keystoreToText,
  type VerifiedBalance,
  type VerifiedReceipt,
} from '@pos/wallet-client';
import { useState } from 'preact/hooks';
import { grouped, pct, shortHex } from '../lib/format.js';
import { hashParam } from '../lib/search.js';
import { errorInfo, Refused, useApp, Verified } from '../ui/common.js';
import { receiptLines } from './lookup.js';
import { History } from './wallet-history.js';

/** An unlocked key: in memory only. */
interface Unlocked {
  readonly address: string;
  readonly secretKey: Uint8Array;
}

const field = (e: Event) => (e.currentTarget as HTMLInputElement).value;

/** Create a key, or import a keystore's text; both stored encrypted. */
function AddKey(props: { onAdded(address: string): void }) {
  const { walletStore } = useApp();
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (f: () => Promise<string>) => {
    setBusy(true);
    setError(undefined);
    try {
      props.onAdded(await f());
      setPassword('');
      setAgain('');
      setText('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const create = () =>
    run(async () => {
      if (password.length < 8) throw new Error('a password of at least 8 characters');
      if (password !== again) throw new Error('the two passwords differ');
      const k = await encryptKeystore(randomEd25519SecretKey(), password);
      return walletStore.add(k).publicKey;
    });
  const importText = () =>
    run(async () => {
      const json = keystoreFromText(text);
      // Decrypted once here: a keystore that does not open is not kept.
      const { publicKey } = await decryptKeystore(json, password);
      walletStore.add(keystoreToText(json as Parameters<typeof keystoreToText>[0]));
      return toHex(publicKey);
    });
  return (
    <div class="card">
      <h3>Add a key</h3>
      <label>
        password{' '}
        <input
          type="password"
          name="password"
          value={password}
          onInput={(e) => setPassword(field(e))}
        />
      </label>
      <label>
        again (to create){' '}
        <input
          type="password"
          name="password-again"
          value={again}
          onInput={(e) => setAgain(field(e))}
        />
      </label>
      <button type="button" data-action="create-key" disabled={busy} onClick={create}>
        create a new key
      </button>
      <p class="small">
        or paste a keystore (as `pos-wallet keygen` writes) and give its password:
      </p>
      <textarea name="keystore" rows={4} value={text} onInput={(e) => setText(field(e))} />
      <button
        type="button"
        data-action="import-key"
        disabled={busy || text === ''}
        onClick={importText}
      >
        import
      </button>
      {busy ? <p>working (scrypt takes a second or two)…</p> : null}
      {error === undefined ? null : <p class="failed">{errorInfo(error).message}</p>}
    </div>
  );
}

/** Send from the unlocked key. */
function Send(props: { key_: Unlocked; onSent(): void }) {
  const { conn, anchor, walletStore } = useApp();
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [state, setState] = useState<{
    busy: boolean;
    receipt?: VerifiedReceipt;
    error?: unknown;
    note?: string;
  }>({ busy: false });
  const send = async () => {
    const target = hashParam(to);
    let value: bigint;
    try {
      value = parseAmount(amount.trim());
      if (value <= 0n) throw new Error();
    } catch {
      setState({ busy: false, note: 'the amount must be a whole number above 0' });
      return;
    }
    if (target === null) {
      setState({ busy: false, note: 'the recipient must be an address: 0x and 64 hex digits' });
      return;
    }
    setState({ busy: true, note: 'signing, submitting, waiting for a certified block…' });
    try {
      const receipt = await conn.wallet(anchor!).send({
        secretKey: props.key_.secretKey,
        to: fromHex(target, 32),
        amount: value,
        onSigned: (s) =>
          walletStore.record(props.key_.address, {
            txHash: toHex(s.txHash),
            to: target,
            amount: value.toString(),
            fee: s.body.fee.toString(),
            tx: toHex(s.tx),
            spent: s.spent.map((x) => ({
              txHash: toHex(x.outpoint.txHash),
              index: x.outpoint.index,
              amount: x.output.amount.toString(),
            })),
            atMs: Date.now(),
          }),
      });
      setState({ busy: false, receipt });
      props.onSent();
    } catch (e) {
      setState({ busy: false, error: e });
    }
  };
  return (
    <div class="card">
      <h3>Send</h3>
      <label>
        to <input name="to" class="mono" size={70} value={to} onInput={(e) => setTo(field(e))} />
      </label>
      <label>
        amount <input name="amount" value={amount} onInput={(e) => setAmount(field(e))} />
      </label>
      <button type="button" data-action="send" disabled={state.busy} onClick={send}>
        send (fee 1)
      </button>
      {state.note === undefined ? null : <p data-send-note>{state.note}</p>}
      {state.error === undefined ? null : <Refused error={state.error} what="the transfer" />}
      {state.receipt === undefined ? null : (
        <div data-sent={toHex(state.receipt.txHash)}>
          <p>
            sent: transaction{' '}
            <a href={`#/tx/${toHex(state.receipt.txHash)}`}>
              {shortHex(toHex(state.receipt.txHash))}
            </a>
          </p>
          <Verified
            title="transfer committed and its receipt verified in this page"
            lines={receiptLines(state.receipt, anchor!.chainName)}
          />
        </div>
      )}
    </div>
  );
}

/** The unlocked key's balance, send and history. */
function Account(props: { key_: Unlocked }) {
  const { conn, anchor } = useApp();
  const [balance, setBalance] = useState<{ v?: VerifiedBalance; error?: unknown; busy: boolean }>({
    busy: false,
  });
  const [version, setVersion] = useState(0);
  const client = conn.wallet(anchor!);
  const refresh = async () => {
    setBalance({ busy: true });
    try {
      setBalance({ v: await client.balance(fromHex(props.key_.address, 32)), busy: false });
    } catch (e) {
      setBalance({ error: e, busy: false });
    }
    setVersion((x) => x + 1);
  };
  const b = balance.v;
  return (
    <div>
      <div class="card">
        <h3>Balance</h3>
        <button type="button" data-action="balance" disabled={balance.busy} onClick={refresh}>
          {balance.busy ? 'verifying…' : 'verify the balance'}
        </button>
        {balance.error === undefined ? null : <Refused error={balance.error} what="the balance" />}
        {b === undefined ? null : (
          <div>
            <p class="balance">
              balance <strong data-wallet-balance>{formatAmount(b.balance)}</strong> in{' '}
              {b.outputs.length} outputs
            </p>
            <Verified
              title="balance verified in this page"
              lines={[
                `complete under the state root ${shortHex(toHex(b.stateRoot), 18, 0)} of certified block ${b.height}`,
                `certificate signed by ${grouped(b.signedStake)} of ${grouped(b.totalStake)} stake (${pct(b.signedStake, b.totalStake)}, more than 2/3) of epoch ${b.epoch}'s set, followed from the trust anchor (chain ${anchor!.chainName})`,
              ]}
            />
          </div>
        )}
      </div>
      <Send key_={props.key_} onSent={refresh} />
      <div class="card">
        <h3>History</h3>
        {b === undefined ? (
          <p>verify the balance first</p>
        ) : (
          <History address={props.key_.address} client={client} balance={b} version={version} />
        )}
      </div>
    </div>
  );
}

/** The wallet page. */
export function WalletPage() {
  const { anchor, walletStore } = useApp();
  const [keys, setKeys] = useState(() => walletStore.keystores());
  const [chosen, setChosen] = useState<string>(() => keys[0]?.publicKey ?? '');
  const [password, setPassword] = useState('');
  const [unlocked, setUnlocked] = useState<Unlocked | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  if (anchor === null)
    return <p>No trust anchor pinned: the wallet verifies everything against one.</p>;
  const unlock = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const k = walletStore.keystores().find((x) => x.publicKey === chosen);
      if (k === undefined) throw new Error('choose a key');
      const { secretKey } = await decryptKeystore(k, password);
      setUnlocked({ address: toHex(ed25519PublicKey(secretKey)), secretKey });
      setPassword('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="page wallet">
      <h2>Wallet</h2>
      <p class="small">
        Keys are kept in this browser as encrypted keystores; the node is trusted for nothing: every
        balance and receipt is verified here against the pinned trust anchor.
      </p>
      {unlocked === null ? (
        <div class="card">
          <h3>Unlock</h3>
          {keys.length === 0 ? <p>No key yet.</p> : null}
          <select
            name="address"
            value={chosen}
            onChange={(e) => setChosen((e.currentTarget as HTMLSelectElement).value)}
          >
            {keys.map((k) => (
              <option key={k.publicKey} value={k.publicKey}>
                {k.publicKey}
              </option>
            ))}
          </select>
          <input
            type="password"
            name="unlock-password"
            value={password}
            onInput={(e) => setPassword(field(e))}
          />
          <button
            type="button"
            data-action="unlock"
            disabled={busy || keys.length === 0}
            onClick={unlock}
          >
            {busy ? 'unlocking…' : 'unlock'}
          </button>
          {error === undefined ? null : <Refused error={error} what="unlocking" />}
        </div>
      ) : (
        <div>
          <p>
            address{' '}
            <span class="mono" data-wallet-address>
              {unlocked.address}
            </span>{' '}
            <button type="button" onClick={() => setUnlocked(null)}>
              lock
            </button>
          </p>
          <Account key_={unlocked} />
        </div>
      )}
      <AddKey
        onAdded={(address) => {
          setKeys(walletStore.keystores());
          setChosen(address);
        }}
      />
    </section>
  );
}
