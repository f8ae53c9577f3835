/* hello — the FastCGI ceiling of the stack: answers every request with a fixed JSON body. */
#include <fcgiapp.h>

int
main(void)
{
	static const char answer[] =
	    "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"hello\":\"world\"}\n";
	FCGX_Request r;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutStr(answer, sizeof(answer) - 1, r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
