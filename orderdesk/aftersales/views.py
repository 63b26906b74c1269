def case_list(request):
    raise NotImplementedError


def new_case(request, order_id):
    raise NotImplementedError


def case_page(request, case_id):
    raise NotImplementedError


def case_step(request, case_id, step):
    raise NotImplementedError
