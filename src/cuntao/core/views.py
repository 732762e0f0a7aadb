from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from cuntao.core.scope import Role


@login_required
def home(request):
    """Send each role to where its work is."""
    scope = request.scope
    if scope.role == Role.PARTNER:
        return redirect("network:station_home")
    if scope.is_staff_scope:
        return redirect("network:county_console")
    return render(request, "core/no_role.html", status=403)


@never_cache
def healthz(request):
    """Liveness and database reachability, for load balancers and monitors."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = {"status": "ok", "vendor": connection.vendor}
        status = 200
    except Exception as exc:  # any driver error means the same thing here: not serving
        database = {"status": "error", "vendor": connection.vendor, "error": exc.__class__.__name__}
        status = 503
    return JsonResponse({"status": "ok" if status == 200 else "error", "database": database}, status=status)


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True


def locked_out(request, credentials=None, *args, **kwargs):
    """Answer a throttled login (django-axes) with how long to wait, in the user's language."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


# Uploads anyone may fetch: product pictures and the field photos of the public
# traceability pages. Proofs of delivery and other private files live elsewhere under
# MEDIA_ROOT and are served only by their app's own view, which checks the scope.
PUBLIC_MEDIA_PREFIXES = ("products/", "produce/photos/", "produce/members/")


def public_media(request, path: str):
    """Serve a public upload from MEDIA_ROOT; anything else is a 404.

    The app serves its own uploads so that `cuntao demo` and a single-server
    deployment need no web server in front; a larger deployment lets its proxy or
    object store answer /media/ for these prefixes instead.
    """
    from django.http import Http404
    from django.views.static import serve

    if not path.startswith(PUBLIC_MEDIA_PREFIXES) or ".." in path.split("/"):
        raise Http404
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=86400"
    return response
