# The SOTA example of Quectel's QuecThing guide for QuecPython ("SOTA升级示例"), assembled
# from the guide's snippets and its API examples, with ONE line changed (marked below) and its
# import added: qsota then downloads, verifies, sends the image to the MCU and reports the new
# version. On a module, `port=` is the MCU's UART, e.g.
#     port=UART(UART.UART2, 115200, 8, 0, 1, 0)      (from machine import UART)
# and `workdir=` can be left out (default /usr/sota). demo/run.py runs this file on the unix
# port against the Qth emulator; it replaces MCU_PORT with the MCU simulator's TCP port.
import Qth
import utime
import qsota.agent  # added for qsota


def App_devEventCb(event, result):
    print('dev_event:', event, result)
    if 2 == event and 0 == result:
        Qth.otaRequest()


def App_cmdRecvTransCb(value):
    print('recvTrans:', value)
    ret = Qth.sendTrans(1, value)
    print('sendTrans ret:', ret)


def App_cmdRecvTslCb(value):
    print('recvTsl:', value)
    ret = Qth.sendTsl(1, value)
    print('sendTsl ret:', ret)


def App_cmdReadTslCb(ids, pkgId):
    print('readTsl:', ids, pkgId)
    value = {1: 10, 2: 'hello'}
    Qth.ackTsl(0, value, pkgId)


def App_cmdRecvTslServerCb(serverId, value, pkgId):
    print('recvTslServer:', serverId, value, pkgId)
    Qth.ackTslServer(1, serverId, value, pkgId)


def App_otaPlanCb(plans):
    print('otaPlan:', plans)
    Qth.otaAction(1)


def App_fotaResultCb(comp_no, result):
    print('fotaResult:', comp_no, result)


def App_sotaInfoCb(comp_no, version, url, md5, crc):
    print('sotaInfo:', comp_no, version, url, md5, crc)


def App_sotaResultCb(comp_no, result):
    print('sotaResult:', comp_no, result)


if __name__ == '__main__':
    Qth.init()
    Qth.setProductInfo('p111xt', 'V2VUei9ZVWt2SnpL')
    eventOtaCb = {
        'otaPlan': App_otaPlanCb,
        'fotaResult': App_fotaResultCb
    }
    eventCb = {
        'devEvent': App_devEventCb,
        'recvTrans': App_cmdRecvTransCb,
        'recvTsl': App_cmdRecvTslCb,
        'readTsl': App_cmdReadTslCb,
        'readTslServer': App_cmdRecvTslServerCb,
        'ota': eventOtaCb
    }
    Qth.setEventCb(eventCb)
    # The guide's line:  Qth.setMcuVer('STM32', '1_0_0', App_sotaInfoCb, App_sotaResultCb)
    qsota.agent.setMcuVer(Qth, 'STM32', '1_0_0', App_sotaInfoCb, App_sotaResultCb, port=lambda: qsota.tcp_port('127.0.0.1', MCU_PORT), workdir='sota')
    Qth.start()
    while True:
        utime.sleep(1)
