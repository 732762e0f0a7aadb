"""factory_boy factories for parcels."""

import factory

from cuntao.logistics.models import Parcel
from tests.factories import StationFactory, VillagerFactory


class ParcelFactory(factory.django.DjangoModelFactory):
    """An announced carrier parcel for a villager of the station."""

    class Meta:
        model = Parcel

    station = factory.SubFactory(StationFactory)
    county = factory.SelfAttribute("station.county")
    villager = factory.SubFactory(VillagerFactory, station=factory.SelfAttribute("..station"))
    addressee_name = "王秀英"
    source = "carrier"
    fee_fen = 50
    carrier = "ZTO"
    carrier_tracking_no = factory.Sequence(lambda n: f"ZT{n:010d}")
    weight_g = 1200
    volume_cm3 = 6000


PICKUP_CODE = "314159"


def run_in_threads(target, args_list, *, timeout=30):
    """Run target(*args) in one thread per args, released together; return (results, errors).

    Each thread closes its own database connection so the test database can be dropped.
    """
    import threading

    from django.db import connection

    barrier = threading.Barrier(len(args_list), timeout=timeout)
    results, errors = [], []

    def run(*args):
        try:
            barrier.wait()
            results.append(target(*args))
        except Exception as exc:  # noqa: BLE001 -- reported to the test: a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout * 2)
    return results, errors
