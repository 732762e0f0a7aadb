"""Reads of the catalogue: network-wide, but only for signed-in people with a role."""

from django.db import connection
from django.db.models import QuerySet

from cuntao.catalog.models import Category, Merchant, Product
from cuntao.catalog.search import FTS_TABLE, fts5_match, parse_query, pg_tsquery
from cuntao.core.scope import Role, Scope, get_in_scope

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# A search counts and ranks at most this many matches; past it, the partner adds a word.
MAX_COUNTED = 500

# Rank tiers of product_search, best first.
RANK_EXACT_NAME, RANK_NAME_WORDS, RANK_NAME_PREFIXES, RANK_WITH_CATEGORY = 0, 1, 2, 3


def _visible(scope: Scope, qs: QuerySet) -> QuerySet:
    """The catalogue is the whole network's, not a county's: anyone with a role sees it."""
    return qs.none() if scope.role == Role.NONE else qs


def category_list(*, scope: Scope) -> QuerySet[Category]:
    return _visible(scope, Category.objects.select_related("parent").order_by("sort_order", "slug"))


def category_get_for_actor(*, scope: Scope, slug: str) -> Category:
    return get_in_scope(category_list(scope=scope), name="category", slug=slug)


def category_with_children_ids(*, category: Category) -> list[int]:
    """The category and its sub-categories (one level, as the catalogue has)."""
    return [category.pk, *Category.objects.filter(parent=category).values_list("pk", flat=True)]


def merchant_list(*, scope: Scope, include_archived: bool = False) -> QuerySet[Merchant]:
    qs = Merchant.objects.all()
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return _visible(scope, qs.order_by("name"))


def product_list(*, scope: Scope, include_archived: bool = False) -> QuerySet[Product]:
    """Products on sale (listed: not archived, merchant verified and not archived)."""
    qs = Product.objects.select_related("category", "merchant")
    if not include_archived:
        qs = qs.filter(listed=True)
    return _visible(scope, qs)


def product_get_for_actor(*, scope: Scope, product_id: int, include_archived: bool = False) -> Product:
    qs = product_list(scope=scope, include_archived=include_archived)
    return get_in_scope(qs, name="product", pk=product_id)


def product_search(
    *,
    scope: Scope,
    q: str | None = None,
    category: Category | None = None,
    price_min_fen: int | None = None,
    price_max_fen: int | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> "QuerySet[Product] | ProductSearchResults":
    """Products on sale matching q, filtered by category (with its sub-categories) and price.

    The one filter behind the catalogue page and GET /api/v1/products. q is read by
    cuntao.catalog.search.parse_query: characters, full pinyin, initials, prefixes of
    each and mixtures. Every term of q must match. Results are ranked in tiers, then
    by id (oldest product first), so the order is the same on SQLite and PostgreSQL:

    0. the name is exactly q;
    1. every term matches whole words of the name (dfb -> 电饭煲's initials);
    2. every term matches the start of words of the name (dianf -> dianfanbao);
    3. a term matches only through the category's words (shouji -> every phone).

    Without q, all products on sale in id order (a QuerySet). With q, a
    ProductSearchResults: count() and slicing like a QuerySet, read tier by tier from
    the full-text index so that a page costs the same however many products match;
    each product carries `search_rank`, its tier. A search ends after MAX_COUNTED
    matches. limit caps the rows (None for a paginator to slice).
    """
    category_ids = category_with_children_ids(category=category) if category is not None else None
    parsed = parse_query(q or "")
    if parsed is None or scope.role == Role.NONE:
        qs = product_list(scope=scope)
        if category_ids is not None:
            qs = qs.filter(category_id__in=category_ids)
        if price_min_fen is not None:
            qs = qs.filter(price_fen__gte=price_min_fen)
        if price_max_fen is not None:
            qs = qs.filter(price_fen__lte=price_max_fen)
        qs = qs.order_by("pk")
        return qs[: max(0, min(limit, MAX_LIMIT))] if limit is not None else qs
    results = ProductSearchResults(parsed, category_ids=category_ids, price_min_fen=price_min_fen,
                                   price_max_fen=price_max_fen)
    return results.limited(max(0, min(limit, MAX_LIMIT))) if limit is not None else results


class ProductSearchResults:
    """The ranked matches of one query; sliced and counted like a QuerySet.

    Read only as far as a slice needs, so a page costs about the same however many
    products match: each tier is one indexed query in id order with a LIMIT (SQLite:
    FTS5; PostgreSQL: the GIN-indexed generated columns), and the products of the slice
    are fetched in one query. A tier is read only when the tiers above it could not
    fill the slice, so they are then small and known in full, and the rows already
    seen are dropped in Python (no NOT in SQL, which the PostgreSQL planner misjudges).

    count() stops at MAX_COUNTED (more_than_counted tells): a page says "500+" rather
    than reading 30,000 rows to say 30,412, and the results end there too.
    """

    def __init__(self, parsed, *, category_ids=None, price_min_fen=None, price_max_fen=None, cap=None):
        self.parsed = parsed
        self.category_ids = list(category_ids) if category_ids is not None else None
        self.price_min_fen, self.price_max_fen = price_min_fen, price_max_fen
        self.cap = MAX_COUNTED if cap is None else min(cap, MAX_COUNTED)
        self._count = None
        self._exact_ids = None

    def limited(self, cap: int) -> "ProductSearchResults":
        return ProductSearchResults(self.parsed, category_ids=self.category_ids, price_min_fen=self.price_min_fen,
                                    price_max_fen=self.price_max_fen, cap=cap)

    # QuerySet-like surface, enough for Paginator and django-ninja's pagination.
    def all(self):
        return self

    def count(self) -> int:
        if self._count is None:
            self._count = self._total(MAX_COUNTED + 1)
        return min(self._count, self.cap)

    @property
    def more_than_counted(self) -> bool:
        self.count()
        return self._count > MAX_COUNTED

    def __len__(self) -> int:
        return self.count()

    def __iter__(self):
        return iter(self[0:self.cap])

    def __getitem__(self, item):
        if isinstance(item, int):
            found = self[item:item + 1]
            if not found:
                raise IndexError(item)
            return found[0]
        start, stop = item.start or 0, min(self.cap if item.stop is None else item.stop, self.cap)
        if stop <= start:
            return []
        ranked = self._ranked_ids(stop)[start:stop]
        products = product_list(scope=_ANY).in_bulk([pk for pk, _ in ranked])
        page = []
        for pk, rank in ranked:
            product = products.get(pk)
            if product is not None:
                product.search_rank = rank
                page.append(product)
        return page

    # The queries.
    def _filters(self) -> tuple[str, list]:
        sql, params = [], []
        if self.category_ids is not None:
            sql.append(f"p.category_id IN ({', '.join(['%s'] * len(self.category_ids)) or 'NULL'})")
            params.extend(self.category_ids)
        if self.price_min_fen is not None:
            sql.append("p.price_fen >= %s")
            params.append(self.price_min_fen)
        if self.price_max_fen is not None:
            sql.append("p.price_fen <= %s")
            params.append(self.price_max_fen)
        return "".join(f" AND {part}" for part in sql), params

    def _matching(self, which: str) -> tuple[str, list]:
        """SQL selecting p.id of the products matching `which` (broad, words, prefixes), and params.

        broad: every term starts a word of the name or category; words: every term is a
        whole word of the name; prefixes: every term starts a word of the name.
        """
        filters, filter_params = self._filters()
        prefix, name_only = which != "words", which != "broad"
        if connection.vendor == "postgresql":
            column = "search_name_vector" if name_only else "search_vector"
            return (f"SELECT p.id FROM catalog_product p WHERE p.{column} @@ %s::tsquery{filters}",
                    [pg_tsquery(self.parsed, prefix=prefix), *filter_params])
        match = fts5_match(self.parsed, prefix=prefix, name_only=name_only)
        if not filters:  # the index holds only products on sale: no need to read their rows
            return f"SELECT f.rowid FROM {FTS_TABLE} f WHERE f.{FTS_TABLE} MATCH %s", [match]
        sql = f"SELECT p.id FROM {FTS_TABLE} f JOIN catalog_product p ON p.id = f.rowid WHERE f.{FTS_TABLE} MATCH %s"
        return f"{sql}{filters}", [match, *filter_params]

    def _ids(self, which: str, limit: int) -> list[int]:
        sql, params = self._matching(which)
        order = "f.rowid" if f"FROM {FTS_TABLE} f" in sql else "p.id"
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} ORDER BY {order} LIMIT %s", [*params, limit])
            return [row[0] for row in cursor.fetchall()]

    def _total(self, at_most: int) -> int:
        sql, params = self._matching("broad")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({sql} LIMIT %s) matched", [*params, at_most])
            return cursor.fetchone()[0]

    def _exact(self) -> list[int]:
        """Ids of tier 0: products matching q whose name is exactly q (name is indexed)."""
        if self._exact_ids is None:
            filters, filter_params = self._filters()
            sql, params = self._matching("broad")
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT p.id FROM catalog_product p WHERE p.name = %s AND p.listed{filters} "
                               f"AND p.id IN ({sql}) ORDER BY p.id", [self.parsed.text, *filter_params, *params])
                self._exact_ids = [row[0] for row in cursor.fetchall()]
        return self._exact_ids

    def _ranked_ids(self, stop: int) -> list[tuple[int, int]]:
        """The first `stop` (id, rank) pairs in rank order.

        Each tier's matches include the tiers above (a whole word is also a prefix; the
        name is also the name or category), so tier n reads `stop` rows past those seen.
        """
        ranked = [(pk, RANK_EXACT_NAME) for pk in self._exact()]
        seen = {pk for pk, _ in ranked}
        for rank, which in ((RANK_NAME_WORDS, "words"), (RANK_NAME_PREFIXES, "prefixes"), (RANK_WITH_CATEGORY, "broad")):
            if len(ranked) >= stop:
                break
            for pk in self._ids(which, stop + len(seen)):
                if pk not in seen:
                    seen.add(pk)
                    ranked.append((pk, rank))
        return ranked[:stop]


# Rows of a search are fetched after the scope check in product_search.
_ANY = Scope(user=None, role=Role.PROGRAMME_ADMIN, county_ids=None, station_ids=None)


def products_by_ids(*, scope: Scope, product_ids: list[int]) -> dict[int, Product]:
    """Products on sale among product_ids, by id (for orders building their lines)."""
    return {p.pk: p for p in product_list(scope=scope).filter(pk__in=product_ids)}
