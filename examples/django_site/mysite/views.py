"""Visit counter, login with cycle_key, logout with flush."""

from django.http import HttpResponse, JsonResponse


def index(request):
    request.session["visited"] = request.session.get("visited", 0) + 1
    return HttpResponse(f"You visited us {request.session['visited']} times.")


def login(request):
    request.session.cycle_key()  # a new id at login (django.contrib.auth.login does the same)
    request.session["user"] = request.POST["user"]
    return HttpResponse("welcome")


def logout(request):
    request.session.flush()  # deleted: a slow request still running cannot bring it back
    return HttpResponse("bye")


def whoami(request):
    return HttpResponse(request.session.get("user", "nobody"))


def set_key(request, key):
    request.session[key] = request.POST.get("value", "1")
    return HttpResponse("ok")


def keys(request):
    return JsonResponse(sorted(request.session.keys()), safe=False)


def health(request):
    return HttpResponse("ok")  # never touches the session: no store access, no cookie
