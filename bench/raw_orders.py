"""The bare-driver limit for bench/orders.py: the rows of one cash-now order, hand-written SQL.

No Django in the timed loop: psycopg or sqlite3 directly, one transaction per order
making the rows the API does (lock the products in id order, the order, its lines,
stock down, two events, two ledger postings of two entries each, two outbox notices,
the Idempotency-Key record). PostgreSQL runs RAW_CONNECTIONS_PG connections at once
(the database has both cores); SQLite one, as it has a single writer anyway.
"""

import json
import random
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime

RAW_CONNECTIONS_PG = 4
RUN = uuid.uuid4().hex[:6]


def _accounts(cur, p: str, county_id: int, station_id: int) -> dict[str, int]:
    """The station's and its county's ledger accounts by kind (made by the API's orders before)."""
    cur.execute(f"SELECT kind, id FROM ledger_account WHERE station_id = {p} OR (county_id = {p} AND station_id IS NULL)",
                (station_id, county_id))
    return dict(cur.fetchall())


def one_order(cur, p: str, client: dict, accounts: dict, products: list, n: int, rng: random.Random) -> None:
    """The statements of one order; p is the driver's placeholder ("?" or "%s")."""
    now = datetime.now(UTC) if p == "%s" else datetime.now(UTC).isoformat(" ")
    lines = sorted(rng.sample(products, 2))
    ids = [pk for pk, _price in lines]
    lock = " FOR UPDATE" if p == "%s" else ""
    cur.execute(f"SELECT id, price_fen, local_price_fen, stock, listed, category_id FROM catalog_product "
                f"WHERE id IN ({p}, {p}) ORDER BY id{lock}", ids)
    rows = cur.fetchall()
    quantities = [rng.randint(1, 3) for _ in rows]
    total = sum(row[1] * q for row, q in zip(rows, quantities, strict=True))
    commission = total * 4 // 100
    key = f"raw-{RUN}-{client['user_id']}-{n}"
    cur.execute(f"INSERT INTO core_idempotencyrecord (user_id, key, request_hash, response_status, response_body, "
                f"created_at) VALUES ({p}, {p}, {p}, 0, '{{}}', {p}) RETURNING id",
                (client["user_id"], key, uuid.uuid4().hex * 2, now))
    record_id = cur.fetchone()[0]
    number = f"RAW-{uuid.uuid4().hex[:12].upper()}"
    cur.execute(f"INSERT INTO orders_order (county_id, station_id, villager_id, placed_by_id, number, status, "
                f"payment_method, goods_total_fen, local_total_fen, commission_fen, commission_state, "
                f"return_window_days, idempotency_key, placed_at) VALUES ({p}, {p}, {p}, {p}, {p}, 'placed', "
                f"'cash_now', {p}, {p}, {p}, 'pending', 7, {p}, {p}) RETURNING id",
                (client["county_id"], client["station_id"], client["villagers"][0], client["user_id"], number, total,
                 total + total // 8, commission, key, now))
    order_id = cur.fetchone()[0]
    values = ", ".join([f"({p}, {p}, {p}, {p}, {p}, 400, {p}, {p})"] * len(rows))
    params = []
    for row, q in zip(rows, quantities, strict=True):
        params += [order_id, row[0], q, row[1], row[2], row[1] * q, row[1] * q * 4 // 100]
    cur.execute(f"INSERT INTO orders_orderline (order_id, product_id, quantity, unit_price_fen, local_price_fen, "
                f"commission_rate_bp, line_total_fen, commission_fen) VALUES {values}", params)
    for row, q in zip(rows, quantities, strict=True):
        cur.execute(f"UPDATE catalog_product SET stock = stock - {p} WHERE id = {p}", (q, row[0]))
    cur.execute(f"INSERT INTO orders_orderevent (order_id, county_id, actor_id, at, from_status, to_status, note) "
                f"VALUES ({p}, {p}, {p}, {p}, '', 'placed', '')", (order_id, client["county_id"], client["user_id"], now))
    for kind, debit, credit, amount in (("payment", "cash_in_hand", "sales", total),
                                        ("commission_accrual", "commission_expense", "commission_pending", commission)):
        cur.execute(f"INSERT INTO ledger_transaction (county_id, kind, memo, reference_type, reference_id, dedupe_key, "
                    f"actor_id, created_at) VALUES ({p}, {p}, {p}, 'orders.order', {p}, {p}, {p}, {p}) RETURNING id",
                    (client["county_id"], kind, f"Order {number}", str(order_id), f"{kind}:orders.order:{order_id}",
                     client["user_id"], now))
        txn_id = cur.fetchone()[0]
        cur.execute(f"INSERT INTO ledger_entry (transaction_id, county_id, account_id, amount_fen, created_at) "
                    f"VALUES ({p}, {p}, {p}, {p}, {p}), ({p}, {p}, {p}, {p}, {p})",
                    (txn_id, client["county_id"], accounts[debit], amount, now,
                     txn_id, client["county_id"], accounts[credit], -amount, now))
    cur.execute(f"UPDATE orders_order SET status = 'paid', paid_at = {p} WHERE id = {p}", (now, order_id))
    cur.execute(f"INSERT INTO orders_orderevent (order_id, county_id, actor_id, at, from_status, to_status, note) "
                f"VALUES ({p}, {p}, {p}, {p}, 'placed', 'paid', '')", (order_id, client["county_id"], client["user_id"], now))
    for kind in ("order_placed", "order_paid"):
        cur.execute(f"INSERT INTO notify_notice (reference, county_id, station_id, villager_id, phone, channel, "
                    f"language, kind, text, status, attempts, next_attempt_at, lease_token, last_error, "
                    f"gateway_message_id, dedupe_key, recipient_key, created_by_id, created_at) VALUES ({p}, {p}, {p}, "
                    f"{p}, '+8613800000000', 'sms', 'zh-hans', {p}, {p}, 'pending', 0, {p}, '', '', '', {p}, "
                    f"'villager', {p}, {p})",
                    (uuid.uuid4().hex, client["county_id"], client["station_id"], client["villagers"][0], kind,
                     f"订单 {number} 金额 {total / 100:.2f} 元", now, f"order:{order_id}:{kind[6:]}",
                     client["user_id"], now))
    cur.execute(f"UPDATE core_idempotencyrecord SET response_status = 201, response_body = {p} WHERE id = {p}",
                (json.dumps({"number": number, "goods_total_fen": total, "status": "paid"}), record_id))


def _loop_sqlite(path: str, world: dict, seconds: float) -> int:
    conn = sqlite3.connect(path, isolation_level=None, timeout=20)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    cur = conn.cursor()
    client = world["clients"][0]
    accounts = _accounts(cur, "?", client["county_id"], client["station_id"])
    rng, n, stop = random.Random(1), 0, time.perf_counter() + seconds
    while time.perf_counter() < stop:
        cur.execute("BEGIN IMMEDIATE")
        one_order(cur, "?", client, accounts, world["products"], n, rng)
        cur.execute("COMMIT")
        n += 1
    conn.close()
    return n


def _loop_postgres(url: str, world: dict, seconds: float, index: int, counts: list) -> None:
    import psycopg

    client = world["clients"][index % len(world["clients"])]
    with psycopg.connect(url) as conn:
        cur = conn.cursor()
        accounts = _accounts(cur, "%s", client["county_id"], client["station_id"])
        conn.commit()
        rng, n, stop = random.Random(index), 0, time.perf_counter() + seconds
        while time.perf_counter() < stop:
            with conn.transaction():
                one_order(cur, "%s", client, accounts, world["products"], n, rng)
            n += 1
    counts[index] = n


def raw_orders_per_s(env: dict, db: str, world: dict, *, seconds: float) -> float:
    """Orders per second the bare driver makes; the ledger accounts exist by now (the API made them)."""
    from django.conf import settings

    if db == "sqlite":
        return _loop_sqlite(str(settings.DATABASES["default"]["NAME"]), world, seconds) / seconds
    counts = [0] * RAW_CONNECTIONS_PG
    threads = [threading.Thread(target=_loop_postgres, args=(env["DATABASE_URL"], world, seconds, i, counts))
               for i in range(RAW_CONNECTIONS_PG)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds
