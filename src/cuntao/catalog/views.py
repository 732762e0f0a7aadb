from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from cuntao.catalog.forms import CatalogFilterForm
from cuntao.catalog.selectors import category_get_for_actor, category_list, product_get_for_actor, product_search

PAGE_SIZE = 20


@login_required
def catalog_index(request, slug: str | None = None):
    """Find products by characters, pinyin or initials, within a category and a price range."""
    scope = request.scope
    category = category_get_for_actor(scope=scope, slug=slug) if slug else None
    form = CatalogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    q = (filters.get("q") or "").strip()
    products = product_search(scope=scope, q=q, category=category, price_min_fen=filters.get("price_min"),
                              price_max_fen=filters.get("price_max"), limit=None)
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = {key: request.GET[key] for key in ("q", "price_min", "price_max") if request.GET.get(key)}
    context = {
        "page": page, "q": q, "form": form, "more": getattr(products, "more_than_counted", False), "category": category, "query": urlencode(kept),
        # The live search sends only ?q=; with a price filter set, searching waits for the button.
        "price_filtered": bool(request.GET.get("price_min") or request.GET.get("price_max")),
    }
    if request.headers.get("X-Partial") == "results":
        return render(request, "catalog/_results.html", context)
    categories = list(category_list(scope=scope))
    context.update({
        "top_categories": [c for c in categories if c.parent_id is None],
        "sub_categories": [c for c in categories if category and c.parent_id == (category.parent_id or category.pk)],
    })
    return render(request, "catalog/index.html", context)


@login_required
def product_detail(request, product_id: int):
    product = product_get_for_actor(scope=request.scope, product_id=product_id)
    return render(request, "catalog/detail.html", {"product": product})
